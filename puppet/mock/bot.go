package mock

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/hawechaty/hawechaty/puppet"
)

// Bot is one bot account of a World. It implements puppet.Puppet and
// puppet.Dinger, and takes injected faults (see Die, Hang, Flap …).
//
// Its events go through an unbounded queue drained by one goroutine per
// bot: the world never blocks on a slow reader and no event is lost, at the
// cost of memory while nobody reads. Events queued when the bot is closed
// are discarded with it.
type Bot struct {
	w   *World
	id  string
	cfg botConfig

	// guarded by w.mu
	started  bool
	loggedIn bool
	closed   bool
	gen      int        // bumped by Start and Stop: cancels a pending login
	f        faults     // what tests injected
	flapGen  int        // bumped when flapping starts or ends
	rng      *rand.Rand // this bot's own stream (flapping)
	friends  friendship // whom it can reach directly (WithFriends, Befriend, Unfriend)

	queue  *fifo.Queue[puppet.Event]
	events chan puppet.Event
	done   chan struct{} // closed by Close
	pumped sync.WaitGroup
}

var (
	_ puppet.Puppet = (*Bot)(nil)
	_ puppet.Dinger = (*Bot)(nil)
)

func newBot(w *World, id string, cfg botConfig, rng *rand.Rand) *Bot {
	b := &Bot{w: w, id: id, cfg: cfg, rng: rng, friends: newFriendship(cfg), queue: fifo.New[puppet.Event](), events: make(chan puppet.Event), done: make(chan struct{})}
	b.pumped.Add(1)
	go b.pump()
	return b
}

// pump moves queued events to the Events channel until Close.
func (b *Bot) pump() {
	defer b.pumped.Done()
	defer close(b.events)
	fifo.Pump(b.queue, b.events, b.done)
}

// emitLocked stamps and queues an event.
func (b *Bot) emitLocked(ev puppet.Event) {
	if b.closed {
		return
	}
	ev.Time = time.Now()
	b.queue.Push(ev)
}

// upLocked reports whether the bot is started, logged in and alive.
func (b *Bot) upLocked() bool {
	return b.started && b.loggedIn && !b.f.dead && !b.f.killed
}

// receiveLocked is the world handing the bot an inbound message.
func (b *Bot) receiveLocked(m *puppet.Message) {
	if b.upLocked() && !b.f.dropInbound {
		if b.cfg.provider != "" {
			c := *m
			c.ID = b.cfg.provider + ":" + m.ID
			m = &c
		}
		b.emitLocked(puppet.Event{Kind: puppet.EventMessage, Message: m})
	}
}

func (b *Bot) loginLocked() {
	b.loggedIn = true
	b.emitLocked(puppet.Event{Kind: puppet.EventLogin, Self: b.id})
}

func (b *Bot) logoutLocked(why string) {
	if b.loggedIn {
		b.loggedIn = false
		b.emitLocked(puppet.Event{Kind: puppet.EventLogout, Data: why})
	}
}

// block waits, as a send that got no answer does, until ctx ends or the
// bot is closed.
func (b *Bot) block(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return ErrClosed
	}
}

// Name returns the bot's ID, which is also its contact ID.
func (b *Bot) Name() string { return b.id }

// LoggedIn reports whether the bot is started and logged in. A bot that
// died silently still reports true: only its silence tells.
func (b *Bot) LoggedIn() bool {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	return b.started && b.loggedIn
}

// Start connects the bot: EventScan first if the bot was added WithScan,
// then EventLogin (Self is the bot's ID), at once or after its login delay,
// and EventHeartbeat from then on if it was added WithHeartbeat. Start
// after Stop is a reset: it clears the faults that last until a reset
// (Die, Hang). A killed bot starts without error and stays silent. Start
// on a started bot returns nil; it fails while FailStart has attempts
// left, and on a closed bot. With SlowStart it first waits, deaf to ctx.
func (b *Bot) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: start %q: %w", b.id, err)
	}
	b.w.mu.Lock()
	slow := b.f.slowStart
	b.w.mu.Unlock()
	if slow > 0 {
		t := time.NewTimer(slow)
		select {
		case <-t.C:
		case <-b.done:
			t.Stop()
		}
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	switch {
	case b.closed || b.w.closed:
		return fmt.Errorf("mock: start %q: %w", b.id, ErrClosed)
	case b.f.failStarts != 0:
		if b.f.failStarts > 0 {
			b.f.failStarts--
		}
		return fmt.Errorf("mock: start %q: refused: %w", b.id, ErrInjected)
	case b.started:
		return nil
	}
	b.started = true
	b.gen++
	b.f.dead, b.f.hang, b.f.hangDeliver = false, false, false
	if b.f.killed {
		return nil // looks fine, stays silent
	}
	gen := b.gen
	if b.cfg.heartbeat > 0 {
		b.beatLocked(gen)
	}
	if b.cfg.qr != nil { // WithQRLogin: scan.go
		b.qrStartLocked(gen)
		return nil
	}
	if b.cfg.scan != "" {
		b.emitLocked(puppet.Event{Kind: puppet.EventScan, Data: b.cfg.scan})
	}
	if b.cfg.loginDelay <= 0 {
		b.loginLocked()
		return nil
	}
	b.w.afterLocked(b.cfg.loginDelay, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.gen == gen && b.started && !b.loggedIn && !b.f.dead && !b.f.killed {
			b.loginLocked()
		}
	})
	return nil
}

// beatLocked emits EventHeartbeat every heartbeat period while the bot
// stays started (until the Stop or Start that bumps gen), logged in or
// not; a dead or killed bot skips its beats.
func (b *Bot) beatLocked(gen int) {
	b.w.afterLocked(b.cfg.heartbeat, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.gen != gen || !b.started || b.closed {
			return
		}
		if !b.f.dead && !b.f.killed {
			b.emitLocked(puppet.Event{Kind: puppet.EventHeartbeat})
		}
		b.beatLocked(gen)
	})
}

// Stop disconnects the bot, with EventLogout if it was logged in (also when
// it had died silently: stopping is local, the puppet reports it). Stop on
// a stopped bot returns nil.
func (b *Bot) Stop(ctx context.Context) error {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.started {
		return nil
	}
	b.started = false
	b.gen++
	b.logoutLocked("stopped")
	return nil
}

// Events returns the bot's event stream: one channel for the bot's whole
// life, across resets, closed by Close.
func (b *Bot) Events() <-chan puppet.Event { return b.events }

// Close stops the bot for good: sends that hang return, queued events are
// discarded and Events is closed before Close returns. Calls after the
// first return nil.
func (b *Bot) Close() error {
	b.w.mu.Lock()
	if b.closed {
		b.w.mu.Unlock()
		return nil
	}
	b.closed = true
	b.started, b.loggedIn = false, false
	b.f.flapping = false
	b.flapGen++
	b.w.mu.Unlock()
	close(b.done)
	b.pumped.Wait()
	return nil
}

// Say sends text to a room the bot is in, or to a contact or bot. On
// success the world records a Delivery and the bots that see the message
// receive it. Errors, by puppet.Classify:
//
//   - not sent: ctx already done, the bot is stopped, closed or logged out,
//     or FailSends is on;
//   - permanent: the target is no room, contact or bot, or a room the bot
//     is not in (ErrUnknown, ErrNotMember);
//   - unreachable (puppet.ErrNotFriend, ErrNotFriend): a contact or bot
//     the bot is not friends with;
//   - outcome unknown: the bot died, hangs, or went down during its
//     latency; Say then returns when ctx ends (or the bot is closed).
func (b *Bot) Say(ctx context.Context, to, text string) error {
	return b.send(ctx, to, func() { b.w.deliverLocked(b.id, to, text) })
}

// TrySay implements puppet.TrySayer: it is Say when no fault makes the
// send wait (a dead, killed or hung bot, a latency), and otherwise does
// nothing and reports false. It answers only for self == b: a type that
// embeds a Bot may have a Say of its own.
func (b *Bot) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	if self != puppet.Puppet(b) {
		return false, nil
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	wait, err := b.admitLocked(to)
	switch {
	case err != nil:
		return true, err
	case wait != noWait:
		return false, nil
	}
	b.w.deliverLocked(b.id, to, text)
	return true, nil
}

// wait is the fault that makes a send wait.
type wait int

const (
	noWait      wait = iota
	waitDead         // the request goes out and nothing comes back
	waitHang         // Hang
	waitLatency      // SetLatency
)

// admitLocked decides a send to to, with the world locked: the error of
// a send that fails at once, or the fault it must wait for.
func (b *Bot) admitLocked(to string) (wait, error) {
	switch {
	case b.closed:
		return noWait, fmt.Errorf("mock: %q says to %q: %w: %w", b.id, to, ErrClosed, puppet.ErrNotSent)
	case !b.started:
		return noWait, fmt.Errorf("mock: %q says to %q: not started: %w", b.id, to, puppet.ErrNotSent)
	case b.f.dead || b.f.killed:
		return waitDead, nil
	case !b.loggedIn:
		return noWait, fmt.Errorf("mock: %q says to %q: logged out: %w", b.id, to, puppet.ErrNotSent)
	case b.f.failSends:
		return noWait, fmt.Errorf("mock: %q says to %q: connection refused: %w: %w", b.id, to, ErrInjected, puppet.ErrNotSent)
	}
	if err := b.w.reachLocked(b.id, to); err != nil {
		return noWait, err
	}
	switch {
	case b.f.hang:
		return waitHang, nil
	case b.f.latency > 0:
		return waitLatency, nil
	}
	return noWait, nil
}

// send is Say for any message: deliver, called with the world locked,
// delivers it once the faults let it through.
func (b *Bot) send(ctx context.Context, to string, deliver func()) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: %q says to %q: %w: %w", b.id, to, puppet.ErrNotSent, err)
	}
	b.w.mu.Lock()
	wait, err := b.admitLocked(to)
	switch {
	case err != nil:
		b.w.mu.Unlock()
		return err
	case wait == waitDead:
		b.w.mu.Unlock()
		err := b.block(ctx) // the request goes out and nothing comes back
		return fmt.Errorf("mock: %q says to %q: no answer: %w: %w", b.id, to, puppet.ErrOutcomeUnknown, err)
	case wait == waitHang:
		if b.f.hangDeliver {
			deliver()
		}
		b.w.mu.Unlock()
		err := b.block(ctx)
		return fmt.Errorf("mock: %q says to %q: hung: %w: %w: %w", b.id, to, ErrInjected, puppet.ErrOutcomeUnknown, err)
	case wait == noWait:
		defer b.w.mu.Unlock()
		deliver()
		return nil
	}
	latency := b.f.latency
	b.w.mu.Unlock()
	t := time.NewTimer(latency)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return fmt.Errorf("mock: %q says to %q: slow: %w: %w", b.id, to, puppet.ErrOutcomeUnknown, ctx.Err())
	case <-b.done:
		t.Stop()
		return fmt.Errorf("mock: %q says to %q: %w while sending: %w", b.id, to, ErrClosed, puppet.ErrOutcomeUnknown)
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if !b.upLocked() || b.closed {
		return fmt.Errorf("mock: %q says to %q: went down while sending: %w", b.id, to, puppet.ErrOutcomeUnknown)
	}
	if err := b.w.reachLocked(b.id, to); err != nil {
		return err // left the room meanwhile
	}
	deliver()
	return nil
}

// Ding asks for an EventDong carrying data, which comes after the world's
// ding delay if the bot is still up then. A dead bot accepts the ding and
// never answers. Errors wrap puppet.ErrNotSent (stopped, logged out, ctx
// done).
func (b *Bot) Ding(ctx context.Context, data string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: %q ding: %w: %w", b.id, puppet.ErrNotSent, err)
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.closed || !b.started || !b.loggedIn {
		return fmt.Errorf("mock: %q ding: not logged in: %w", b.id, puppet.ErrNotSent)
	}
	if b.f.dead || b.f.killed {
		return nil // swallowed
	}
	gen := b.gen
	b.w.afterLocked(b.w.dingDelay, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.gen == gen && b.upLocked() {
			b.emitLocked(puppet.Event{Kind: puppet.EventDong, Data: data})
		}
	})
	return nil
}

// Rooms lists the rooms the bot is in, with their members, in the order
// they were added. A dead bot's call hangs until ctx ends.
func (b *Bot) Rooms(ctx context.Context) ([]puppet.Room, error) {
	if err := b.query(ctx, "rooms"); err != nil {
		return nil, err
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	return b.w.roomsOfLocked(b.id), nil
}

// Contacts lists the contacts the bot can reach (its friends, see
// WithFriends): the official account first, then the contacts by ID, then
// the other bots. A dead bot's call
// hangs until ctx ends.
func (b *Bot) Contacts(ctx context.Context) ([]puppet.Contact, error) {
	if err := b.query(ctx, "contacts"); err != nil {
		return nil, err
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	return b.w.friendsOfLocked(b.id, b.w.contactsLocked(b.id)), nil
}

// query checks that the bot can answer a read.
func (b *Bot) query(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: %q %s: %w", b.id, what, err)
	}
	b.w.mu.Lock()
	switch {
	case b.closed:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q %s: %w: %w", b.id, what, ErrClosed, puppet.ErrNotSent)
	case !b.started || !b.loggedIn:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q %s: not logged in: %w", b.id, what, puppet.ErrNotSent)
	case b.f.dead || b.f.killed:
		b.w.mu.Unlock()
		return fmt.Errorf("mock: %q %s: no answer: %w", b.id, what, b.block(ctx))
	}
	b.w.mu.Unlock()
	return nil
}
