package hawechaty

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// Option configures a Pool.
type Option interface {
	apply(*config)
}

type config struct {
	ha        reducers.Config
	log       *slog.Logger
	storeOpts []store.Option[reducers.Pool]
	msgBuffer int
	evBuffer  int            // WithEventBuffer: events.go
	cluster   *clusterConfig // WithCluster
	errs      []error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithDingAfter sets the silence after which a bot is dinged (default 60 s).
// Repeats come every third of it unless WithDingEvery says otherwise.
func WithDingAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.DingAfter = d })
}

// WithDingEvery sets the interval of repeated dings (default DingAfter/3).
func WithDingEvery(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.DingEvery = d })
}

// WithFailAfter sets the silence after which a bot is failed and reset
// (default 120 s).
func WithFailAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.FailAfter = d })
}

// WithScanTimeout sets how long a bot waiting for a QR code to be scanned
// may take to log in before it is failed and reset (default 10 minutes, or
// FailAfter if longer). Meanwhile it is neither dinged nor reset, only
// unavailable.
func WithScanTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.ScanTimeout = d })
}

// WithHeartbeatContact sets the contact that answers "dong" to "ding"
// (default the ChatieIO official account gh_051c89260e5d).
func WithHeartbeatContact(id string) Option {
	return optionFunc(func(c *config) { c.ha.HeartbeatContact = id })
}

// WithPuppetDing also dings through the puppet protocol (puppet.Dinger)
// for puppets that offer it.
func WithPuppetDing() Option {
	return optionFunc(func(c *config) { c.ha.PuppetDing = true })
}

// WithBackoff sets the backoff between reset attempts (default 1 s ×1.6,
// ±20 %, capped at 120 s).
func WithBackoff(b epics.Backoff) Option {
	return optionFunc(func(c *config) { c.ha.Backoff = b })
}

// WithEjectAfter sets how many consecutive failed sends fail a bot (default 3;
// 0 means the default, and math.MaxInt in effect turns ejection off).
// A send whose caller gave up is not cut short: its attempt goes on, and
// counts only by the puppet's own answer (a failure, or no answer within
// the send timeout), so that a slow bot is not failed for a caller's
// short deadline and a hung one is, whatever the callers' deadlines.
func WithEjectAfter(n int) Option {
	return optionFunc(func(c *config) { c.ha.EjectAfter = n })
}

// WithSendTimeout bounds each send attempt (default 30 s). A timeout is an
// unknown outcome: it is reported, not retried, and counts towards
// ejection. The caller's context bounds the caller's wait (Say), not the
// attempt, which goes on to its end.
func WithSendTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.SendTimeout = d })
}

// WithWaitForBot makes Say wait, bounded by its context, when no bot is
// available, instead of failing at once with ErrNoBot.
func WithWaitForBot() Option {
	return optionFunc(func(c *config) { c.ha.WaitForBot = true })
}

// WithAffinity keeps each conversation on one bot. Its first send picks
// the bot by rendezvous hashing (a fixed hash: every process and every run
// picks alike) and the pool's state records it; later sends stay with
// that bot while it is available and reaches the target. It moves only
// when its bot can no longer serve it (failed, logged out, removed, left
// the room, no longer a friend), and does not move back when that bot
// recovers, nor when bots are added. A bot over its send budget lends
// the send to another bot; the conversation stays. The state remembers
// up to 65,536 conversations per generation (WithAffinitySize).
func WithAffinity() Option {
	return optionFunc(func(c *config) { c.ha.Affinity = true })
}

// WithAffinitySize sets how many conversations affinity remembers: when n
// conversations were given or kept a bot since the last turnover, the
// older generation is forgotten (default 65,536; at most 2n are held). A
// forgotten conversation is placed by rendezvous hashing again.
func WithAffinitySize(n int) Option {
	return optionFunc(func(c *config) { c.ha.AffinitySize = n })
}

// WithRateLimit sets each bot's send budget: a token bucket that holds
// burst sends and refills at n per per (default 120 a minute, burst 20,
// as bot gateways budget about 120 sends a minute per connection and
// platforms ban accounts that send faster). n = 0 turns the limit off.
// The budget is computed in the reducer from the actions' times. A send
// skips bots over their budget; when every bot that could send it is
// over, it waits, within the caller's context, for the first refill, and
// ends with ErrRateLimited if the context ends first.
// per must be positive and at most about 146 years, burst at least 1;
// New says what is wrong otherwise.
func WithRateLimit(n int, per time.Duration, burst int) Option {
	return optionFunc(func(c *config) {
		if n == 0 {
			c.ha.RateLimit = reducers.RateLimit{Sends: -1}
			return
		}
		c.ha.RateLimit = reducers.RateLimit{Sends: n, Per: per, Burst: burst}
		if n < 0 {
			c.errs = append(c.errs, errors.New("hawechaty: WithRateLimit: negative rate (0 turns the limit off)"))
		}
	})
}

// WithFingerprint sets the window of the inbound dedupe's second key
// (default 30 s; a negative window turns it off). Bots on different
// providers see one message under different IDs: a message whose ID is
// new but whose conversation, sender and text match one accepted within
// the window is taken for a copy. The risk: the same person sending the
// same text twice in one conversation within the window reaches Messages
// once.
func WithFingerprint(window time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.Fingerprint = window })
}

// WithSeed sets the seed of the jitter of dings and resets (default 0).
// Jitter is a pure function of the seed, the bot and the time, so one
// seed and the same actions give the same state; pools that should not
// ding in step take different seeds.
func WithSeed(seed uint64) Option {
	return optionFunc(func(c *config) { c.ha.Seed = seed })
}

// WithDedupe sets the inbound dedupe window: a message ID is remembered
// until size newer IDs were seen and window has passed, or 8×size newer
// IDs were seen (default 4096 and 10 minutes). A copy of a message that a
// slower bot delivers after that reaches Messages again.
func WithDedupe(size int, window time.Duration) Option {
	return optionFunc(func(c *config) { c.ha.DedupeSize, c.ha.DedupeWindow = size, window })
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("hawechaty: WithLogger(nil)"))
			return
		}
		c.log = l
	})
}

// WithStoreOptions passes options to the store New makes, for example
// middleware or an epic of the application's. (NewSlice takes the
// application's store instead.)
func WithStoreOptions(opts ...store.Option[reducers.Pool]) Option {
	return optionFunc(func(c *config) { c.storeOpts = append(c.storeOpts, opts...) })
}

// MaxMessageBuffer is the largest buffer WithMessageBuffer accepts.
const MaxMessageBuffer = 1 << 20

// WithMessageBuffer sets the capacity of the Messages channel (default
// 1024, at most MaxMessageBuffer). Messages beyond it wait in an
// unbounded queue: none is dropped.
func WithMessageBuffer(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.errs = append(c.errs, errors.New("hawechaty: WithMessageBuffer: negative size"))
			return
		}
		if n > MaxMessageBuffer {
			c.errs = append(c.errs, fmt.Errorf("hawechaty: WithMessageBuffer(%d): more than MaxMessageBuffer (%d)", n, MaxMessageBuffer))
			return
		}
		c.msgBuffer = n
	})
}

func newConfig(opts []Option) (config, error) {
	c := config{log: slog.New(slog.DiscardHandler), msgBuffer: 1024}
	for _, o := range opts {
		if o == nil {
			return c, errors.New("hawechaty: nil option")
		}
		o.apply(&c)
	}
	c.ha = c.ha.Defaults()
	if err := c.ha.Validate(); err != nil {
		c.errs = append(c.errs, err)
	}
	return c, errors.Join(c.errs...)
}
