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
	done   chan struct{} // closed by Close
	once   sync.Once

	// deaf methods block whatever their context says, until Release or
	// Close, as a puppet that does not honour cancellation.
	deafMu  sync.Mutex
	deaf    map[string]bool
	release chan struct{}
	blocked int // deaf calls under way

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
	return &fakePuppet{name: name, events: make(chan puppet.Event, 64), rooms: rooms,
		done: make(chan struct{}), deaf: map[string]bool{}, release: make(chan struct{})}
}

// Deafen makes the named methods ("Start", "Stop", "Say", "Rooms",
// "Contacts") block, deaf to their context, until Release or Close.
func (f *fakePuppet) Deafen(methods ...string) {
	f.deafMu.Lock()
	defer f.deafMu.Unlock()
	for _, m := range methods {
		f.deaf[m] = true
	}
}

// Release ends the deaf calls under way and makes every method hear
// again.
func (f *fakePuppet) Release() {
	f.deafMu.Lock()
	defer f.deafMu.Unlock()
	clear(f.deaf)
	close(f.release)
	f.release = make(chan struct{})
}

// Blocked returns how many deaf calls are under way.
func (f *fakePuppet) Blocked() int {
	f.deafMu.Lock()
	defer f.deafMu.Unlock()
	return f.blocked
}

// block waits, deaf to any context, while method is deafened.
func (f *fakePuppet) block(method string) {
	f.deafMu.Lock()
	if !f.deaf[method] {
		f.deafMu.Unlock()
		return
	}
	f.blocked++
	release := f.release
	f.deafMu.Unlock()
	select {
	case <-release:
	case <-f.done:
	}
	f.deafMu.Lock()
	f.blocked--
	f.deafMu.Unlock()
}

// Beat emits a heartbeat every d while the puppet is started, until
// Close: its connection is alive whatever its sends do.
func (f *fakePuppet) Beat(d time.Duration) {
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f.mu.Lock()
				if f.started {
					f.emitLocked(puppet.Event{Kind: puppet.EventHeartbeat})
				}
				f.mu.Unlock()
			case <-f.done:
				return
			}
		}
	}()
}

func (f *fakePuppet) Name() string { return f.name }

func (f *fakePuppet) Start(ctx context.Context) error {
	f.block("Start")
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
	f.block("Stop")
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
		select {
		case f.events <- ev:
		case <-f.done:
		}
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
	f.block("Say")
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

func (f *fakePuppet) Rooms(context.Context) ([]puppet.Room, error) {
	f.block("Rooms")
	return f.rooms, nil
}

func (f *fakePuppet) Contacts(context.Context) ([]puppet.Contact, error) {
	f.block("Contacts")
	return []puppet.Contact{{ID: "alice", Name: "Alice"}, {ID: "bob-" + f.name, Name: "Bob"}}, nil
}

func (f *fakePuppet) Close() error {
	f.once.Do(func() { close(f.done) }) // first: it frees an emitter that holds mu
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
