package reducers

import "time"

// Hooks for the external tests: the derived fields rebuilt from Bots, the
// real next deadline of a bot, and the jitter arithmetic.

// Rebuilt returns s with Avail, Selves, Deadlines and Available made anew
// from Bots.
func Rebuilt(s Pool) Pool { return s.rebuilt() }

// NextDeadline is the bot's real next deadline under c (zero for none):
// its Due is never later.
func (c Config) NextDeadline(b *Bot) time.Time { return c.next(b) }

// Unit is the reducer's source of jitter.
func Unit(seed uint64, key string, t time.Time, salt uint64) float64 {
	return unit(seed, key, t, salt)
}

// Jittered is d ± frac·d for a uniform r.
func Jittered(d time.Duration, frac, r float64) time.Duration { return jittered(d, frac, r) }
