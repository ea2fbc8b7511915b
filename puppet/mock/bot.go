package mock

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// Bot is one bot account of a World. It implements puppet.Puppet and
// puppet.Dinger. Its state is guarded by the world's lock; its events go
// through an unbounded queue, so the world never blocks on a slow reader
// and no event is lost.
type Bot struct {
	w  *World
	id string

	// guarded by w.mu
	started  bool
	loggedIn bool
	closed   bool
	f        faults

	queue  *queue
	events chan puppet.Event
	done   chan struct{}
	pumped sync.WaitGroup
}

// faults are what tests inject. Those marked "until reset" are cleared by
// Start after Stop.
type faults struct {
	dead        bool          // until reset: silent, sends never arrive, dings unanswered
	killed      bool          // until Revive: dead, and resets do not help
	failSends   bool          // until ClearFaults: sends fail as not sent
	hang        bool          // until reset or ClearFaults: sends hang until their context ends
	hangDeliver bool          // with hang: the message is delivered before the hang
	latency     time.Duration // until ClearFaults: every send takes this long
	dropInbound bool          // until ClearFaults: inbound messages are lost
	failStarts  int           // the next failStarts Start calls fail
	flapping    bool          // until ClearFaults: logs out and in at random
}

func newBot(w *World, id string) *Bot {
	b := &Bot{w: w, id: id, queue: newQueue(), events: make(chan puppet.Event), done: make(chan struct{})}
	b.pumped.Add(1)
	go b.pump()
	return b
}

func (b *Bot) pump() {
	defer b.pumped.Done()
	defer close(b.events)
	for {
		for _, ev := range b.queue.take() {
			select {
			case b.events <- ev:
			case <-b.done:
				return
			}
		}
		select {
		case <-b.queue.signal:
		case <-b.done:
			return
		}
	}
}

// emitLocked queues an event; w.mu is held.
func (b *Bot) emitLocked(ev puppet.Event) {
	if b.closed {
		return
	}
	ev.Time = time.Now()
	b.queue.push(ev)
}

// receive is called by the world (w.mu held) for an inbound message.
func (b *Bot) receive(m *puppet.Message) {
	if !b.started || !b.loggedIn || b.f.dead || b.f.killed || b.f.dropInbound {
		return
	}
	b.emitLocked(puppet.Event{Kind: puppet.EventMessage, Message: m})
}

// Name returns the bot's ID.
func (b *Bot) Name() string { return b.id }

// Start logs the bot in (EventLogin). It clears the faults that last until
// a reset. It fails while FailStart has attempts left.
func (b *Bot) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.closed {
		return fmt.Errorf("mock: %q is closed", b.id)
	}
	if b.f.failStarts > 0 {
		b.f.failStarts--
		return fmt.Errorf("mock: %q refused to start (injected)", b.id)
	}
	if b.started {
		return nil
	}
	b.started = true
	b.f.dead, b.f.hang, b.f.hangDeliver = false, false, false
	if b.f.killed {
		return nil // looks fine, stays silent
	}
	b.loggedIn = true
	b.emitLocked(puppet.Event{Kind: puppet.EventLogin, Self: b.id})
	return nil
}

// Stop logs the bot out (EventLogout).
func (b *Bot) Stop(ctx context.Context) error {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started {
		return nil
	}
	b.started = false
	if b.loggedIn {
		b.loggedIn = false
		b.emitLocked(puppet.Event{Kind: puppet.EventLogout, Data: "stopped"})
	}
	return nil
}

// Events returns the bot's event stream, closed by Close.
func (b *Bot) Events() <-chan puppet.Event { return b.events }

// Close stops the bot for good and closes Events.
func (b *Bot) Close() error {
	b.w.mu.Lock()
	if b.closed {
		b.w.mu.Unlock()
		return nil
	}
	b.closed = true
	b.started, b.loggedIn = false, false
	b.w.mu.Unlock()
	close(b.done)
	b.pumped.Wait()
	return nil
}

// Say sends text to a room or contact. Outcomes follow the injected faults.
func (b *Bot) Say(ctx context.Context, to, text string) error {
	b.w.mu.Lock()
	switch {
	case b.closed || !b.started:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q is not started: %w", b.id, puppet.ErrNotSent)
	case b.f.dead || b.f.killed:
		b.w.mu.Unlock()
		<-ctx.Done() // the request goes out and nothing comes back
		return fmt.Errorf("mock: %q: no answer: %w: %w", b.id, puppet.ErrOutcomeUnknown, ctx.Err())
	case !b.loggedIn:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q is logged out: %w", b.id, puppet.ErrNotSent)
	case b.f.failSends:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q: connection refused (injected): %w", b.id, puppet.ErrNotSent)
	}
	if err := b.w.canReachLocked(b.id, to); err != nil {
		b.w.mu.Unlock()
		return err
	}
	if b.f.hang {
		if b.f.hangDeliver {
			b.w.deliverLocked(b.id, to, text)
		}
		b.w.mu.Unlock()
		<-ctx.Done()
		return fmt.Errorf("mock: %q: hung: %w: %w", b.id, puppet.ErrOutcomeUnknown, ctx.Err())
	}
	latency := b.f.latency
	b.w.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("mock: %q: slow: %w: %w", b.id, puppet.ErrOutcomeUnknown, ctx.Err())
		}
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started || !b.loggedIn || b.f.dead || b.f.killed {
		return fmt.Errorf("mock: %q went down while sending: %w", b.id, puppet.ErrOutcomeUnknown)
	}
	b.w.deliverLocked(b.id, to, text)
	return nil
}

// Ding asks for an EventDong with data, after the world's ding delay.
func (b *Bot) Ding(ctx context.Context, data string) error {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started || !b.loggedIn {
		return fmt.Errorf("mock: %q is not logged in: %w", b.id, puppet.ErrNotSent)
	}
	if b.f.dead || b.f.killed {
		return nil // swallowed
	}
	b.w.afterLocked(b.w.dingDelay, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.started && b.loggedIn && !b.f.dead && !b.f.killed {
			b.emitLocked(puppet.Event{Kind: puppet.EventDong, Data: data})
		}
	})
	return nil
}

// Rooms lists the rooms the bot is in.
func (b *Bot) Rooms(ctx context.Context) ([]puppet.Room, error) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started || !b.loggedIn {
		return nil, fmt.Errorf("mock: %q is not logged in: %w", b.id, puppet.ErrNotSent)
	}
	return b.w.roomsOfLocked(b.id), nil
}

// Contacts lists the contacts the bot can reach.
func (b *Bot) Contacts(ctx context.Context) ([]puppet.Contact, error) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started || !b.loggedIn {
		return nil, fmt.Errorf("mock: %q is not logged in: %w", b.id, puppet.ErrNotSent)
	}
	return b.w.contactsLocked(b.id), nil
}

// queue is an unbounded FIFO of events.
type queue struct {
	mu     sync.Mutex
	items  []puppet.Event
	signal chan struct{}
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(ev puppet.Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) take() []puppet.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}
