package puppet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Config is what a Factory gets to build one puppet.
type Config struct {
	// Name is the puppet's name in the pool, for example "mock#0".
	Name string
	// Token is the credential, possibly empty.
	Token Secret
	// Index is the puppet's position in HA_WECHATY_PUPPET (0-based).
	Index int
	// Getenv reads further settings from the environment (os.Getenv in
	// production, a map in tests). Never nil when called from the facade.
	Getenv func(string) string `json:"-"`
}

// Factory builds a puppet from its configuration.
type Factory func(Config) (Puppet, error)

// ErrUnknownPuppet is returned by New for a name nobody registered.
var ErrUnknownPuppet = errors.New("puppet: unknown puppet")

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a factory available under name (as used in
// HA_WECHATY_PUPPET). Adapters call it from init. It panics if name is
// empty, f is nil, or name is taken: those are programming errors.
func Register(name string, f Factory) {
	if name == "" || f == nil {
		panic("puppet: Register with an empty name or nil factory")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("puppet: %q registered twice", name))
	}
	registry[name] = f
}

// New builds a puppet with the factory registered under name. A Wechaty
// puppet name from a HAWechaty configuration that no factory is registered
// under is served by the puppet that reaches it from Go, with the same
// cfg (see LookupWechatyName: "wechaty-puppet-padlocal" by
// "wechaty-puppet-service", for example), or is ErrNoGoPuppet with the fix
// in its message. Any other name is ErrUnknownPuppet.
func New(name string, cfg Config) (Puppet, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		if w, known := LookupWechatyName(name); known {
			return newWechaty(w, cfg)
		}
		hint := ""
		if strings.HasPrefix(name, "wechaty-puppet-") || strings.Contains(name, "/wechaty-puppet-") {
			hint = "; a Wechaty puppet that runs in Node is reached from Go through a puppet service: " + gateway(name, "")
		}
		return nil, fmt.Errorf("%w %q (registered: %q)%s", ErrUnknownPuppet, name, Names(), hint)
	}
	p, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("puppet: new %q: %w", name, err)
	}
	return p, nil
}

// Names lists the registered puppet names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
