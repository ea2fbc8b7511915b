package mock

import (
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/puppet"
)

// DefaultRoom is the room of DefaultWorld that every registered bot joins.
const DefaultRoom = "room-all"

var (
	defaultOnce  sync.Once
	defaultWorld *World
)

// DefaultWorld is the world in which puppets built through the registry
// ("mock" in HA_WECHATY_PUPPET) live. It has the official account, two
// contacts, "alice" and "bob", and the room DefaultRoom with both of them
// and every registered bot. It lives as long as the process and is never
// closed; each bot ends with its Close.
func DefaultWorld() *World {
	defaultOnce.Do(func() {
		w := NewWorld()
		_ = w.AddContact("alice", "Alice")
		_ = w.AddContact("bob", "Bob")
		_ = w.AddRoom(DefaultRoom, "everyone", "alice", "bob")
		defaultWorld = w
	})
	return defaultWorld
}

// newRegistered builds a bot in DefaultWorld named cfg.Name.
func newRegistered(cfg puppet.Config) (puppet.Puppet, error) {
	w := DefaultWorld()
	b, err := w.AddBot(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("mock: registered puppet %q: %w", cfg.Name, err)
	}
	if err := w.Join(DefaultRoom, cfg.Name); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("mock: registered puppet %q: %w", cfg.Name, err)
	}
	return b, nil
}

func init() { puppet.Register("mock", newRegistered) }
