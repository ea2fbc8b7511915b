package mock

import (
	"sync"

	"github.com/hawechaty/hawechaty/puppet"
)

var (
	defaultOnce  sync.Once
	defaultWorld *World
)

// DefaultWorld is the world in which puppets built through the registry
// ("mock" in HA_WECHATY_PUPPET) live. It has two contacts, "alice" and
// "bob", and a room "room-all" that every registered bot joins.
func DefaultWorld() *World {
	defaultOnce.Do(func() {
		defaultWorld = NewWorld()
		_ = defaultWorld.AddContact("alice", "Alice")
		_ = defaultWorld.AddContact("bob", "Bob")
		_ = defaultWorld.AddRoom("room-all", "everyone", "alice", "bob")
	})
	return defaultWorld
}

func init() {
	puppet.Register("mock", func(cfg puppet.Config) (puppet.Puppet, error) {
		w := DefaultWorld()
		b, err := w.AddBot(cfg.Name)
		if err != nil {
			return nil, err
		}
		if err := w.Join("room-all", cfg.Name); err != nil {
			return nil, err
		}
		return b, nil
	})
}
