package epics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
)

// DefaultHeartbeatContact is the ChatieIO official account, which answers
// "dong" to "ding".
const DefaultHeartbeatContact = "gh_051c89260e5d"

// DefaultScanTimeout is the default Config.ScanTimeout, or FailAfter if
// that is longer. ScanTimeout is how long a bot waiting for a QR scan (a
// Scan, and no Login since the first one) may take to log in before it is
// failed and reset. Meanwhile it is neither dinged, nor failed for
// FailAfter, nor reset, and it is not available. It must not be shorter
// than FailAfter.
const DefaultScanTimeout = 10 * time.Minute

// Backoff is truncated exponential backoff with jitter. It is plain
// arithmetic: Delay is a pure function of its inputs.
type Backoff struct {
	Initial time.Duration // delay before the first attempt
	Factor  float64       // growth per attempt
	Jitter  float64       // ± fraction, 0.2 for ±20 %
	Max     time.Duration // cap, applied after jitter
}

// DefaultBackoff is 1 s ×1.6, ±20 %, capped at 120 s.
var DefaultBackoff = Backoff{Initial: time.Second, Factor: 1.6, Jitter: 0.2, Max: 120 * time.Second}

// Delay returns the wait before attempt (1-based) given r, a uniform
// random number in [0, 1): r = 0.5 means no jitter.
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(b.Initial) * math.Pow(b.Factor, float64(attempt-1))
	if d > float64(b.Max) {
		d = float64(b.Max)
	}
	d *= 1 + b.Jitter*(2*r-1)
	if d > float64(b.Max) {
		d = float64(b.Max)
	}
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}

// Config holds the timings of the HA behaviour. Zero fields take the
// defaults of HAWechaty (see Defaults).
type Config struct {
	DingAfter        time.Duration // silence before the first ding (60 s)
	DingEvery        time.Duration // repeat while no dong (DingAfter/3)
	DingJitter       float64       // ± fraction of DingAfter (1/6)
	FailAfter        time.Duration // silence before the bot is failed (120 s)
	ScanTimeout      time.Duration // from a QR scan to the login, before the bot is failed (DefaultScanTimeout)
	HeartbeatContact string        // who answers dong (gh_051c89260e5d)
	PuppetDing       bool          // also ding through puppet.Dinger when offered
	Backoff          Backoff       // between reset attempts
	EjectAfter       int           // consecutive failed sends that fail a bot (3)
	SendTimeout      time.Duration // per send attempt (30 s)
	WaitForBot       bool          // Say waits (bounded by its context) when no bot is available
	Affinity         bool          // a conversation sticks to one bot (rendezvous hashing)
	// Rand returns uniform numbers in [0, 1) for jitter. Seed it for
	// reproducible runs. Called from one goroutine at a time per epic.
	Rand func() float64
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.DingAfter == 0 {
		c.DingAfter = 60 * time.Second
	}
	if c.DingEvery == 0 {
		c.DingEvery = c.DingAfter / 3
	}
	if c.DingJitter == 0 {
		c.DingJitter = 1.0 / 6
	}
	if c.FailAfter == 0 {
		c.FailAfter = 120 * time.Second
	}
	if c.ScanTimeout == 0 {
		c.ScanTimeout = max(DefaultScanTimeout, c.FailAfter)
	}
	if c.HeartbeatContact == "" {
		c.HeartbeatContact = DefaultHeartbeatContact
	}
	if c.Backoff == (Backoff{}) {
		c.Backoff = DefaultBackoff
	}
	if c.EjectAfter == 0 {
		c.EjectAfter = 3
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return c
}

// Validate reports every inconsistent setting at once. It checks a
// Config after Defaults: a zero field that Defaults would fill is an error
// here. Floating-point settings must be finite numbers (NaN and ±Inf are
// rejected).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("epics: "+format, a...)) }
	if c.DingAfter < 0 || c.DingEvery < 0 || c.FailAfter < 0 || c.ScanTimeout < 0 || c.SendTimeout < 0 {
		bad("durations must not be negative")
	}
	switch {
	case c.DingEvery == 0 && c.DingAfter > 0:
		bad("DingEvery is 0: DingAfter %v is too short to derive it (DingAfter/3); set DingEvery or a longer DingAfter", c.DingAfter)
	case c.DingEvery == 0:
		bad("DingEvery must be positive")
	}
	if !inUnit(c.DingJitter) {
		bad("DingJitter %v out of [0, 1)", c.DingJitter)
	}
	if c.FailAfter > 0 && c.DingAfter >= c.FailAfter {
		bad("DingAfter %v must be shorter than FailAfter %v", c.DingAfter, c.FailAfter)
	}
	if c.ScanTimeout > 0 && c.ScanTimeout < c.FailAfter {
		bad("ScanTimeout %v must not be shorter than FailAfter %v", c.ScanTimeout, c.FailAfter)
	}
	b := c.Backoff
	if !(b.Factor >= 1) || math.IsInf(b.Factor, 1) || b.Initial <= 0 || b.Max < b.Initial || !inUnit(b.Jitter) {
		bad("backoff %+v: want Initial > 0, Factor ≥ 1 and finite, Max ≥ Initial, Jitter in [0, 1)", b)
	}
	if c.EjectAfter < 0 {
		bad("EjectAfter %d is negative", c.EjectAfter)
	}
	return errors.Join(errs...)
}

// inUnit reports whether x is in [0, 1); NaN is not.
func inUnit(x float64) bool { return x >= 0 && x < 1 }

// jittered returns d ± frac·d for a uniform r in [0, 1).
func jittered(d time.Duration, frac, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + frac*(2*r-1)))
}

// Deps are the effects the epics perform, provided by the pool.
type Deps struct {
	// Puppet returns the puppet of a bot.
	Puppet func(bot string) (puppet.Puppet, bool)
	// Dispatch dispatches synchronously (the store's Dispatch). The send
	// epic records its routing decision with it, so that the next route
	// sees the advanced cursor.
	Dispatch func(actions.Action) error
	// SendContext returns the context of the Say call behind a send, or
	// nil. The send stops retrying when it ends.
	SendContext func(id string) context.Context
	// Log receives effect errors (a ding that could not be sent).
	Log *slog.Logger
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}
