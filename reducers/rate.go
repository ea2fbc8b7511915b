package reducers

import (
	"math"
	"time"
)

// RateLimit is a bot's send budget: a token bucket that holds up to Burst
// sends and refills at Sends per Per. Chat platforms ban accounts that
// send too fast, and bot gateways budget about 120 sends a minute per
// connection: DefaultRateLimit follows them.
type RateLimit struct {
	Sends int           `json:"sends"` // per Per; negative turns the limit off
	Per   time.Duration `json:"per"`
	Burst int           `json:"burst"` // sends a rested bot may make at once
}

// DefaultRateLimit is 120 sends a minute per bot, 20 at once.
var DefaultRateLimit = RateLimit{Sends: 120, Per: time.Minute, Burst: 20}

// Off reports whether the limit is turned off.
func (r RateLimit) Off() bool { return r.Sends < 0 }

// Bucket is a bot's send budget at a time: Tokens sends left at At. The
// reducer refills it from the actions' stamps (Meta.Time) when it routes
// a send; a bot the pool has not routed to yet has a full bucket.
type Bucket struct {
	Tokens float64   `json:"tokens"`
	At     time.Time `json:"at"`
}

// tokens returns bot's budget at t.
func (c *Config) tokens(s Pool, bot string, t time.Time) float64 {
	tk, _ := c.tokensAt(s, bot, t)
	return tk
}

// tokensAt returns bot's budget at t and the position of its bucket in
// s.Buckets, -1 for none.
func (c *Config) tokensAt(s Pool, bot string, t time.Time) (float64, int) {
	bk, at := s.Buckets.lookup(bot)
	if at < 0 {
		return float64(c.RateLimit.Burst), -1
	}
	if t.After(bk.At) {
		bk.Tokens += float64(t.Sub(bk.At)) * float64(c.RateLimit.Sends) / float64(c.RateLimit.Per)
	}
	return min(bk.Tokens, float64(c.RateLimit.Burst)), at
}

// budget is a bot's budget as route read it at t, so that spending from
// the bot just chosen does not read its bucket again.
type budget struct {
	bot    string
	tokens float64
	at     int // the bucket's position in Pool.Buckets, -1 for none
}

// canSend reports whether bot has a send left in its budget at t, and
// records the budget read in last.
func (c *Config) canSend(s Pool, bot string, t time.Time, last *budget) bool {
	if c.RateLimit.Off() {
		return true
	}
	tk, at := c.tokensAt(s, bot, t)
	*last = budget{bot: bot, tokens: tk, at: at}
	return tk >= 1-1e-9
}

// spend takes one send from bot's budget at t; last is the budget
// canSend read last, at t in s.
func (c *Config) spend(s Pool, bot string, t time.Time, last budget) Pool {
	if c.RateLimit.Off() {
		return s
	}
	tk, at := last.tokens, last.at
	if last.bot != bot {
		tk, at = c.tokensAt(s, bot, t)
	}
	if b := (Bucket{Tokens: tk - 1, At: t}); at >= 0 {
		s.Buckets = s.Buckets.setAt(at, b)
	} else {
		s.Buckets = s.Buckets.Set(bot, b)
	}
	return s
}

// refillAt is when bot's budget holds a send again, after t.
func (c *Config) refillAt(s Pool, bot string, t time.Time) time.Time {
	missing := 1 - c.tokens(s, bot, t)
	if missing <= 0 {
		return t
	}
	return t.Add(time.Duration(math.Ceil(missing * float64(c.RateLimit.Per) / float64(c.RateLimit.Sends))))
}
