package puppet_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/puppet"
)

// outbox is an in-process puppet: it queues a message and answers at
// once, unless it is paused, when Say waits for its context.
type outbox struct {
	puppet.Puppet // the rest of the interface, left out of the example
	mu            sync.Mutex
	paused        bool
	sent          []string
}

// TrySay answers for the outbox itself only (self == p), and only when
// it can send without waiting.
func (p *outbox) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	if self != puppet.Puppet(p) {
		return false, nil // a type that embeds the outbox may say otherwise
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		return false, nil // Say would wait: leave it to Say
	}
	p.sent = append(p.sent, to+": "+text)
	return true, nil
}

func (p *outbox) Say(ctx context.Context, to, text string) error {
	if done, err := p.TrySay(p, to, text); done {
		return err
	}
	<-ctx.Done() // paused: wait, as a puppet behind a network would
	return fmt.Errorf("outbox paused: %w: %w", puppet.ErrNotSent, ctx.Err())
}

// A puppet that can often send without waiting implements TrySayer: the
// pool then makes the attempt on the goroutine that routed it, with no
// hand-over to another goroutine. TrySay does nothing when it would
// wait, and the pool calls Say.
func ExampleTrySayer() {
	p := &outbox{}
	fmt.Println(puppet.TrySay(p, "alice", "hello"))
	p.paused = true
	fmt.Println(puppet.TrySay(p, "alice", "later"))
	fmt.Println(p.sent)
	// Output:
	// true <nil>
	// false <nil>
	// [alice: hello]
}
