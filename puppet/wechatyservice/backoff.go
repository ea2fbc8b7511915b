package wechatyservice

import (
	"math"
	"time"
)

// Backoff is truncated exponential backoff with jitter, used between
// reconnection attempts. The arithmetic is pure (Delay); the puppet only
// draws the random number and waits.
type Backoff struct {
	// Base is the delay before the first retry (attempt 0).
	Base time.Duration
	// Factor multiplies the delay on each further attempt; values below 1
	// count as 1.
	Factor float64
	// Jitter spreads each delay uniformly over ±Jitter of itself (0.2 is
	// ±20 %); it is clamped to [0, 1].
	Jitter float64
	// Max caps every delay, jitter included. Zero means no cap.
	Max time.Duration
}

// DefaultBackoff is the reconnection backoff unless WithBackoff says
// otherwise: 1 s, ×1.6 per attempt, ±20 %, at most 30 s.
var DefaultBackoff = Backoff{Base: time.Second, Factor: 1.6, Jitter: 0.2, Max: 30 * time.Second}

// Delay returns the wait before retry number attempt (0-based), given a
// random number r in [0, 1): r = 0.5 is the delay without jitter, r → 0 the
// shortest and r → 1 the longest. Out-of-range inputs are clamped, so Delay
// never panics and never returns a negative duration.
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	attempt = max(attempt, 0)
	factor := b.Factor
	if !(factor >= 1) { // also catches NaN
		factor = 1
	}
	jitter := b.Jitter
	if !(jitter >= 0) {
		jitter = 0
	}
	jitter = min(jitter, 1)
	if !(r >= 0) {
		r = 0
	}
	r = min(r, 1)

	limit := float64(math.MaxInt64)
	if b.Max > 0 {
		limit = float64(b.Max)
	}
	d := float64(b.Base) * math.Pow(factor, float64(attempt))
	d = min(d, limit) // truncate before jitter so that a capped delay still spreads
	d *= 1 + jitter*(2*r-1)
	d = min(d, limit)
	if d >= float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}
