package mock

import (
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// Die makes the bot silent until a reset (Stop then Start): no events,
// sends hang until their context ends (outcome unknown, never delivered),
// dings go unanswered. Nothing tells the pool: only the heartbeat can.
func (b *Bot) Die() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.dead = true
}

// Kill is Die that survives resets, until Revive.
func (b *Bot) Kill() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.killed = true
}

// Revive undoes Kill; the next Start logs in.
func (b *Bot) Revive() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.killed = false
}

// LogOut logs the bot out now (EventLogout), as the platform kicking it
// would. Sends fail as not sent; a reset logs it back in.
func (b *Bot) LogOut() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.loggedIn {
		b.loggedIn = false
		b.emitLocked(puppet.Event{Kind: puppet.EventLogout, Data: "kicked (injected)"})
	}
}

// FailSends makes sends fail as not sent (on) or work again (off).
func (b *Bot) FailSends(on bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.failSends = on
}

// Hang makes sends block until their context ends, then report an unknown
// outcome. With delivered, the message does reach its target first: the
// ambiguous case a pool must never send twice. Cleared by a reset.
func (b *Bot) Hang(delivered bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.hang, b.f.hangDeliver = true, delivered
}

// SetLatency makes every send take d (0 to clear).
func (b *Bot) SetLatency(d time.Duration) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.latency = d
}

// DropInbound loses inbound messages (dong answers included) while on.
func (b *Bot) DropInbound(on bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.dropInbound = on
}

// FailStart makes the next n Start calls fail.
func (b *Bot) FailStart(n int) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.failStarts = n
}

// Flap makes the bot log out and back in, again and again, each phase
// lasting a seeded random time between period/2 and 3·period/2, until
// ClearFaults.
func (b *Bot) Flap(period time.Duration) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.f.flapping || period <= 0 {
		return
	}
	b.f.flapping = true
	b.flapLocked(period)
}

func (b *Bot) flapLocked(period time.Duration) {
	d := period/2 + time.Duration(b.w.rng.Int64N(int64(period)))
	b.w.afterLocked(d, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if !b.f.flapping || b.closed {
			return
		}
		if b.started {
			if b.loggedIn {
				b.loggedIn = false
				b.emitLocked(puppet.Event{Kind: puppet.EventLogout, Data: "flap (injected)"})
			} else if !b.f.dead && !b.f.killed {
				b.loggedIn = true
				b.emitLocked(puppet.Event{Kind: puppet.EventLogin, Self: b.id})
			}
		}
		b.flapLocked(period)
	})
}

// ClearFaults removes every injected fault.
func (b *Bot) ClearFaults() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f = faults{}
}
