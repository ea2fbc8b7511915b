package mock

import (
	"time"
)

// faults are what tests inject. See the package documentation for how long
// each lasts.
type faults struct {
	dead        bool          // until reset: silent, sends never arrive, dings unanswered
	killed      bool          // until Revive or ClearFaults: dead, and resets do not help
	failSends   bool          // until FailSends(false) or ClearFaults: sends fail as not sent
	hang        bool          // until reset or ClearFaults: sends hang until their context ends
	hangDeliver bool          // with hang: the message is delivered before the hang
	latency     time.Duration // until SetLatency(0) or ClearFaults: every send takes this long
	dropInbound bool          // until DropInbound(false) or ClearFaults: inbound messages are lost
	failStarts  int           // > 0: the next failStarts Starts fail; < 0: every Start fails
	slowStart   time.Duration // until SlowStart(0) or ClearFaults: Start takes this long, deaf to its ctx
	flapping    bool          // until ClearFaults: logs out and in at random
}

// Die makes the bot silent until a reset (Stop, then Start): no events at
// all, sends never arrive and end as outcome unknown when their context
// ends, dings go unanswered, Rooms and Contacts hang. Nothing tells the
// pool: only its heartbeat can.
func (b *Bot) Die() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.dead = true
}

// Kill is Die that survives resets: Start returns nil and nothing follows,
// until Revive or ClearFaults.
func (b *Bot) Kill() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.killed = true
}

// Revive undoes Kill. A bot that was started while killed is still logged
// out: the next reset (Stop, then Start) logs it in.
func (b *Bot) Revive() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.killed = false
}

// LogOut logs the bot out now, with EventLogout, as the platform kicking
// the account would. Sends fail as not sent until a reset (Stop, then
// Start) logs it back in.
func (b *Bot) LogOut() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.started && !b.f.dead && !b.f.killed {
		b.logoutLocked("kicked (injected)")
	} else {
		b.loggedIn = false // a dead bot's logout goes unreported
	}
}

// FailSends makes sends fail as not sent (on), or work again (off).
func (b *Bot) FailSends(on bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.failSends = on
}

// Hang makes sends block until their context ends (or the bot is closed),
// then report an unknown outcome. With delivered, each message does reach
// its target before the hang: the ambiguous case, which a pool must never
// send twice. Cleared by a reset or ClearFaults.
func (b *Bot) Hang(delivered bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.hang, b.f.hangDeliver = true, delivered
}

// SetLatency makes every send take d before it is delivered; a context
// that ends first makes it an unknown outcome, never delivered. 0 clears.
func (b *Bot) SetLatency(d time.Duration) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.latency = max(d, 0)
}

// DropInbound loses the messages other people send to the bot (the
// official account's "dong" included) while on. Protocol-level dongs
// (EventDong) still arrive.
func (b *Bot) DropInbound(on bool) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.dropInbound = on
}

// FailStart makes the next n Start calls fail with ErrInjected; n < 0 makes
// every Start fail until FailStart(0) or ClearFaults.
func (b *Bot) FailStart(n int) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.failStarts = n
}

// SlowStart makes every Start take d before it does anything, deaf to its
// context meanwhile (only closing the bot cuts it short), as a puppet that
// does not honour cancellation: a Start whose context ends during the wait
// still goes on and can return nil after the deadline. A context already
// done when Start is called still fails it at once. 0 clears.
func (b *Bot) SlowStart(d time.Duration) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f.slowStart = max(d, 0)
}

// Flap makes a started bot log out and back in (EventLogout, EventLogin)
// again and again until ClearFaults. Each phase lasts a random time between
// period/2 and 3·period/2, drawn from the bot's seeded stream: the same
// seed gives the same timeline. Flap on a flapping bot, or with period <= 0,
// does nothing. A bot that is dead or stopped does not come back up by
// flapping.
func (b *Bot) Flap(period time.Duration) {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	if b.f.flapping || period <= 0 || b.closed {
		return
	}
	b.f.flapping = true
	b.flapGen++
	b.flapLocked(b.flapGen, period)
}

func (b *Bot) flapLocked(gen int, period time.Duration) {
	d := period/2 + time.Duration(b.rng.Int64N(int64(period)))
	b.w.afterLocked(d, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.flapGen != gen || b.closed {
			return
		}
		if b.started && !b.f.dead && !b.f.killed {
			if b.loggedIn {
				b.logoutLocked("flap (injected)")
			} else {
				b.loginLocked()
			}
		}
		b.flapLocked(gen, period)
	})
}

// ClearFaults removes every injected fault, Die and Kill included, and
// stops flapping. It changes no login state: a bot logged out by a fault
// stays logged out until a reset.
func (b *Bot) ClearFaults() {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.f = faults{}
	b.flapGen++
}
