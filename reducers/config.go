package reducers

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// DefaultHeartbeatContact is the ChatieIO official account, which answers
// "dong" to "ding".
const DefaultHeartbeatContact = "gh_051c89260e5d"

// DefaultFingerprint is the default Config.Fingerprint.
const DefaultFingerprint = 30 * time.Second

// maxRatePer is the longest Config.RateLimit.Per: about 146 years.
const maxRatePer = time.Duration(math.MaxInt64 / 2)

// DefaultScanTimeout is the default Config.ScanTimeout, or FailAfter if
// that is longer.
const DefaultScanTimeout = 10 * time.Minute

// Backoff is truncated exponential backoff with jitter. It is plain
// arithmetic: Delay is a pure function of its inputs.
type Backoff struct {
	Initial time.Duration `json:"initial"` // delay before the first attempt
	Factor  float64       `json:"factor"`  // growth per attempt
	Jitter  float64       `json:"jitter"`  // ± fraction, 0.2 for ±20 %
	Max     time.Duration `json:"max"`     // cap, applied after jitter
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

// Config holds the pool's rules: the heartbeat's timings, the backoff of
// resets, ejection, routing and the inbound dedupe window. The reducer
// decides with it; the epics read the few settings their effects need.
// Zero fields take the defaults of HAWechaty (see Defaults).
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
	SendTimeout      time.Duration // per send attempt, and per reset (30 s)
	WaitForBot       bool          // a send waits for a bot when none is available
	// Affinity: a conversation sticks to the bot of its first send (chosen
	// by Rendezvous among the bots that can serve it) and moves only when
	// that bot can no longer serve it (see Pool.Sticky); it does not move
	// back when a bot recovers, nor when bots are added.
	Affinity bool
	// AffinitySize bounds the conversations remembered under affinity:
	// when AffinitySize conversations were given or kept a bot since the
	// last turnover, the older generation is forgotten (65,536; at most
	// twice that many are held). A forgotten conversation gets its bot by
	// Rendezvous again.
	AffinitySize int
	// RateLimit is each bot's send budget (DefaultRateLimit; Sends < 0
	// turns it off). Routing skips a bot over its budget; a send that no
	// bot has the budget for waits for the first refill.
	RateLimit RateLimit
	// Fingerprint is the window of the inbound dedupe's second key: a
	// message whose ID is new but whose conversation, sender and text match
	// a message accepted less than Fingerprint before is taken for the
	// same message seen by another provider under another ID (30 s; a
	// negative window turns it off). The risk: the same person sending
	// the same text twice within the window is delivered once.
	Fingerprint time.Duration
	// The inbound dedupe window: a message ID is remembered until both
	// DedupeSize newer IDs were seen and DedupeWindow has passed (4096
	// IDs, 10 minutes), or 8×DedupeSize newer IDs were seen, whichever
	// comes first; at most twice that many IDs are held. A copy of a
	// message arriving through a slower bot after that is delivered again.
	DedupeSize   int
	DedupeWindow time.Duration
	// Node names this process in a cluster (package cluster): the
	// reducer watches, dings and resets only the bots whose Bot.Node it
	// is, and the epics act only for them. Empty in a pool of one process.
	Node string
	// Seed makes the jitter of dings and backoff different between pools
	// and reproducible for one seed. Jitter is a hash of the seed, the bot
	// and the time of the decision: a pure function, so the same actions
	// give the same state.
	Seed uint64
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
	if c.DedupeSize == 0 {
		c.DedupeSize = 4096
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = 10 * time.Minute
	}
	if c.AffinitySize == 0 {
		c.AffinitySize = 1 << 16
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = DefaultRateLimit
	}
	if c.Fingerprint == 0 {
		c.Fingerprint = DefaultFingerprint
	}
	return c
}

// Validate reports every inconsistent setting at once. It checks a Config
// after Defaults: a zero field that Defaults would fill is an error here.
// Floating-point settings must be finite (NaN and ±Inf are rejected).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("reducers: "+format, a...)) }
	if c.DingAfter < 0 || c.DingEvery < 0 || c.FailAfter < 0 || c.ScanTimeout < 0 || c.SendTimeout < 0 || c.DedupeWindow < 0 {
		bad("durations must not be negative")
	}
	switch {
	case c.DingEvery == 0 && c.DingAfter > 0:
		bad("DingEvery is 0: DingAfter %v is too short to derive it (DingAfter/3); set DingEvery or a longer DingAfter", c.DingAfter)
	case c.DingEvery == 0:
		bad("DingEvery must be positive")
	}
	if c.SendTimeout == 0 {
		bad("SendTimeout must be positive")
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
	if c.DedupeSize < 2 || c.DedupeSize > math.MaxInt/seenCap {
		bad("DedupeSize %d: want at least 2 and at most %d", c.DedupeSize, math.MaxInt/seenCap)
	}
	if c.AffinitySize < 1 {
		bad("AffinitySize %d: want at least 1", c.AffinitySize)
	}
	if r := c.RateLimit; !r.Off() && (r.Sends == 0 || r.Per <= 0 || r.Burst < 1) {
		bad("rate limit %d per %v, burst %d: want sends > 0 (or < 0 for none), per > 0 and burst ≥ 1", r.Sends, r.Per, r.Burst)
	}
	if r := c.RateLimit; !r.Off() && r.Per > maxRatePer {
		// A refill time past the range of time.Duration would wrap round
		// into the past, and the clock would route the waiting send again
		// and again.
		bad("rate limit per %v: want at most %v", r.Per, maxRatePer)
	}
	return errors.Join(errs...)
}

// inUnit reports whether x is in [0, 1); NaN is not.
func inUnit(x float64) bool { return x >= 0 && x < 1 }

// jittered returns d ± frac·d for a uniform r in [0, 1).
func jittered(d time.Duration, frac, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + frac*(2*r-1)))
}

// unit returns a number in [0, 1) that looks uniform, from a seed, a key
// and a time: the reducer's source of jitter. FNV-1a over the key, mixed
// with the seed and the time by splitmix64's finalizer.
func unit(seed uint64, key string, t time.Time, salt uint64) float64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return float64(mix(h^mix(seed^uint64(t.UnixNano())^salt*0x9e3779b97f4a7c15))>>11) / (1 << 53)
}

// mix is splitmix64's finalizer.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Rendezvous returns the rendezvous-hashing score of bot for a
// conversation: the bot with the highest score among those that can serve
// the conversation gets it. The score is the same in every process and
// every run, so a conversation keeps its bot across restarts.
func Rendezvous(conversation, bot string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(conversation); i++ {
		h ^= uint64(conversation[i])
		h *= 1099511628211
	}
	h ^= 0xff
	h *= 1099511628211
	for i := 0; i < len(bot); i++ {
		h ^= uint64(bot[i])
		h *= 1099511628211
	}
	return mix(h)
}
