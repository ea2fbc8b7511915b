package hawechaty

import (
	"errors"
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

// WithAffinity keeps each conversation on one bot (rendezvous hashing); it
// moves only when that bot fails.
func WithAffinity() Option {
	return optionFunc(func(c *config) { c.ha.Affinity = true })
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

// WithMessageBuffer sets the capacity of the Messages channel (default
// 1024). Messages beyond it wait in an unbounded queue: none is dropped.
func WithMessageBuffer(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.errs = append(c.errs, errors.New("hawechaty: WithMessageBuffer: negative size"))
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
