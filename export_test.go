package hawechaty

import "github.com/hawechaty/hawechaty/puppet"

// Puppets returns the puppets the pool holds, by name, each as its event
// channel: a puppet's identity, which tells apart two puppets of one name.
func Puppets(p *Pool) map[string]<-chan puppet.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]<-chan puppet.Event, len(p.bots))
	for name, m := range p.bots {
		out[name] = m.raw.Events()
	}
	return out
}
