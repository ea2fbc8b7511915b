package mock

import "time"

// Option configures a World. Options are built by the With* functions of
// this package.
type Option interface{ apply(*World) }

type worldOption func(*World)

func (f worldOption) apply(w *World) { f(w) }

// WithSeed makes the world's randomness (flapping) reproducible: the same
// seed gives the same timeline. Each bot draws from its own stream, derived
// from the seed and the bot's ID, so one bot's faults never shift another's.
// The default seed is 1.
func WithSeed(seed uint64) Option { return worldOption(func(w *World) { w.seed = seed }) }

// WithHeartbeatContact sets the official account's ID (default
// DefaultHeartbeatContact). An empty ID keeps the default.
func WithHeartbeatContact(id string) Option {
	return worldOption(func(w *World) {
		if id != "" {
			w.official = id
		}
	})
}

// WithDongDelay sets how long the official account takes to answer "ding"
// with "dong" (default 1 s). A negative delay counts as 0.
func WithDongDelay(d time.Duration) Option {
	return worldOption(func(w *World) { w.dongDelay = max(d, 0) })
}

// WithDingDelay sets how long a protocol-level Ding takes to come back as
// EventDong (default 1 s, as Wechaty's PuppetMock). A negative delay counts
// as 0.
func WithDingDelay(d time.Duration) Option {
	return worldOption(func(w *World) { w.dingDelay = max(d, 0) })
}

// BotOption configures one bot in World.AddBot.
type BotOption interface{ applyBot(*botConfig) }

type botConfig struct {
	scan        string        // QR payload announced on every Start; "" for none
	loginDelay  time.Duration // time from Start to EventLogin
	heartbeat   time.Duration // period of EventHeartbeat while started; 0 for none
	friends     []string      // WithFriends
	friendsOnly bool          // WithFriends was given
	provider    string        // WithProvider

	qr *qrLogin // WithQRLogin; nil for none
}

type botOption func(*botConfig)

func (f botOption) applyBot(c *botConfig) { f(c) }

// WithScan makes every Start emit EventScan with the QR payload qr before
// EventLogin, as a platform that wants the account scanned again would.
func WithScan(qr string) BotOption { return botOption(func(c *botConfig) { c.scan = qr }) }

// WithLoginDelay makes EventLogin come d after Start (default at once), as
// if someone took d to scan the QR code. Until then the bot is started but
// logged out: its sends fail as not sent. A negative delay counts as 0.
func WithLoginDelay(d time.Duration) BotOption {
	return botOption(func(c *botConfig) { c.loginDelay = max(d, 0) })
}

// WithHeartbeat makes the bot emit EventHeartbeat every d while it is
// started, logged in or not, as the Wechaty puppet service forwards its
// connection's heartbeats whatever the account's state. A dead or killed
// bot beats no more. d <= 0 (the default) means no heartbeats.
func WithHeartbeat(d time.Duration) BotOption {
	return botOption(func(c *botConfig) { c.heartbeat = max(d, 0) })
}
