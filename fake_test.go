package hawechaty_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// fakePuppet is a minimal in-test puppet: Start logs in, Say records or
// fails as told, Emit injects events. The rich mock world lives in
// puppet/mock; this one keeps facade tests independent of it.
type fakePuppet struct {
	name   string
	events chan puppet.Event
	rooms  []puppet.Room

	mu       sync.Mutex
	said     []string
	attempts int           // Say calls, sent or not
	sayDelay time.Duration // how long a Say takes
	sayErr   error
	startErr error
	started  bool
	closed   bool
}

func newFake(name string, rooms ...puppet.Room) *fakePuppet {
	return &fakePuppet{name: name, events: make(chan puppet.Event, 64), rooms: rooms}
}

func (f *fakePuppet) Name() string { return f.name }

func (f *fakePuppet) Start(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return f.startErr
	}
	if !f.started {
		f.started = true
		f.emitLocked(puppet.Event{Kind: puppet.EventLogin, Self: "self-" + f.name})
	}
	return nil
}

func (f *fakePuppet) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		f.started = false
		f.emitLocked(puppet.Event{Kind: puppet.EventLogout, Data: "stopped"})
	}
	return nil
}

func (f *fakePuppet) emitLocked(ev puppet.Event) {
	if !f.closed {
		f.events <- ev
	}
}

// Emit injects an event.
func (f *fakePuppet) Emit(ev puppet.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emitLocked(ev)
}

func (f *fakePuppet) Events() <-chan puppet.Event { return f.events }

// Say honours ctx as a real puppet does: a done ctx sends nothing, and a
// ctx that ends during a slow send leaves its outcome unknown.
func (f *fakePuppet) Say(ctx context.Context, to, text string) error {
	f.mu.Lock()
	f.attempts++
	delay := f.sayDelay
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fake %q: %w: %w", f.name, puppet.ErrNotSent, err)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("fake %q: slow: %w: %w", f.name, puppet.ErrOutcomeUnknown, ctx.Err())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sayErr != nil {
		return f.sayErr
	}
	f.said = append(f.said, to+":"+text)
	return nil
}

func (f *fakePuppet) Said() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.said...)
}

// Attempts returns how many times Say was called.
func (f *fakePuppet) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// SetSayDelay makes each Say take d.
func (f *fakePuppet) SetSayDelay(d time.Duration) {
	f.mu.Lock()
	f.sayDelay = d
	f.mu.Unlock()
}

// Started reports whether the puppet is started (logged in).
func (f *fakePuppet) Started() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started
}

// Closed reports whether Close was called.
func (f *fakePuppet) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

func (f *fakePuppet) SetSayErr(err error) {
	f.mu.Lock()
	f.sayErr = err
	f.mu.Unlock()
}

func (f *fakePuppet) Rooms(context.Context) ([]puppet.Room, error) { return f.rooms, nil }

func (f *fakePuppet) Contacts(context.Context) ([]puppet.Contact, error) {
	return []puppet.Contact{{ID: "alice", Name: "Alice"}, {ID: "bob-" + f.name, Name: "Bob"}}, nil
}

func (f *fakePuppet) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.events)
	}
	return nil
}

func init() {
	puppet.Register("fake-test", func(cfg puppet.Config) (puppet.Puppet, error) {
		if cfg.Token.Reveal() == "bad" {
			return nil, fmt.Errorf("token refused")
		}
		return newFake(cfg.Name), nil
	})
}
