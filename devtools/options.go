package devtools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"
)

// DefaultURL is where @redux-devtools/cli listens by default.
const DefaultURL = "ws://127.0.0.1:8000/socketcluster/"

// Option configures a Client or an Endpoint.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	url            string
	name           string
	instanceID     string
	maxAge         int
	timeTravel     bool
	remoteDispatch bool            // some type may be dispatched
	dispatchTypes  map[string]bool // the types a monitor may dispatch
	redact         Redactor
	secret         string
	origins        []string
	log            *slog.Logger
	queue          int
	maxConns       int
	maxFrame       int64
	pingEvery      time.Duration
	errs           []error

	// For tests: how the client dials (nil: the network) and its
	// reconnect jitter, uniform in [0, 1).
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	jitter func() float64
}

func newConfig(opts []Option) (config, error) {
	c := config{
		url: DefaultURL, name: "HAWechaty pool", instanceID: "pool-1", maxAge: 500,
		redact: RedactSecrets, log: slog.New(slog.DiscardHandler), queue: 1024, maxConns: 64,
		maxFrame: 1 << 20, pingEvery: 8 * time.Second, jitter: rand.Float64,
	}
	for _, o := range opts {
		if o == nil {
			return c, errors.New("devtools: nil option")
		}
		o.apply(&c)
	}
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		c.errs = append(c.errs, fmt.Errorf("devtools: URL %q: want ws://host:port/socketcluster/", c.url))
	}
	if c.maxAge < 1 || c.queue < 1 || c.maxFrame < 1024 || c.pingEvery <= 0 || c.maxConns < 1 {
		c.errs = append(c.errs, errors.New("devtools: MaxAge, Queue, MaxFrame (≥ 1024), MaxConnections and ping interval must be positive"))
	}
	if c.queue > MaxQueue {
		c.errs = append(c.errs, fmt.Errorf("devtools: WithQueue(%d): at most %d (the queue is allocated up front)", c.queue, MaxQueue))
	}
	return c, errors.Join(c.errs...)
}

// WithURL sets the relay's websocket URL (client mode). A bare
// "ws://host:port" gets the "/socketcluster/" path.
func WithURL(u string) Option {
	return optionFunc(func(c *config) {
		if pu, err := url.Parse(u); err == nil && (pu.Path == "" || pu.Path == "/") {
			u = pu.Scheme + "://" + pu.Host + "/socketcluster/"
		}
		c.url = u
	})
}

// WithName sets the name the monitor shows for the store.
func WithName(name string) Option { return optionFunc(func(c *config) { c.name = name }) }

// WithInstanceID sets the instance ID (one per store).
func WithInstanceID(id string) Option { return optionFunc(func(c *config) { c.instanceID = id }) }

// WithMaxAge sets how many actions the monitor keeps (default 500).
func WithMaxAge(n int) Option { return optionFunc(func(c *config) { c.maxAge = n }) }

// WithTimeTravel lets monitors jump the live store to a past state
// (JUMP_TO_STATE, JUMP_TO_ACTION, ROLLBACK, RESET, COMMIT). Off by default:
// such commands are refused and logged.
func WithTimeTravel(on bool) Option { return optionFunc(func(c *config) { c.timeTravel = on }) }

// ErrReservedType is wrapped by the error of WithRemoteDispatch when it
// names an action type that a monitor may never dispatch.
var ErrReservedType = errors.New("devtools: reserved action type")

// reservedPrefixes start the action types a monitor may never dispatch,
// whatever WithRemoteDispatch lists: the pool's own actions (a forged
// "send/DONE" would make a Say report a message nobody sent; a forged
// "bot/LOGIN" would route sends to a bot that is gone) and the store's.
var reservedPrefixes = [...]string{"bot/", "send/", "pool/", "inbox/", "@@"}

// reserved reports whether typ starts with a reserved prefix.
func reserved(typ string) bool {
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// WithRemoteDispatch lets monitors dispatch actions of these types into the
// store from their dispatcher panel; every other type is refused, and the
// monitor gets an ERROR saying why. None by default: dispatch is off.
//
// Name only the app's own action types. The pool's types (prefixes "bot/",
// "send/", "pool/", "inbox/") and the store's ("@@") are never allowed: a
// forged "send/DONE" would make a Say report a message nobody sent.
// Naming one of them (ErrReservedType), naming no type or an empty one
// makes Connect and NewEndpoint fail. Several WithRemoteDispatch options
// add up.
func WithRemoteDispatch(types ...string) Option {
	return optionFunc(func(c *config) {
		if len(types) == 0 {
			c.errs = append(c.errs, errors.New("devtools: WithRemoteDispatch names no action type"))
			return
		}
		for _, typ := range types {
			switch {
			case typ == "":
				c.errs = append(c.errs, errors.New("devtools: WithRemoteDispatch with an empty action type"))
			case reserved(typ):
				c.errs = append(c.errs, fmt.Errorf("%w: WithRemoteDispatch(%q): a monitor may never dispatch types that start with %q", ErrReservedType, typ, reservedPrefixes[:]))
			default:
				if c.dispatchTypes == nil {
					c.dispatchTypes = map[string]bool{}
				}
				c.dispatchTypes[typ] = true
				c.remoteDispatch = true
			}
		}
	})
}

// WithRedactor replaces the redaction applied to every state and action
// before it leaves the process (default RedactSecrets). It must not be nil.
func WithRedactor(r Redactor) Option {
	return optionFunc(func(c *config) {
		if r == nil {
			c.errs = append(c.errs, errors.New("devtools: WithRedactor(nil)"))
			return
		}
		c.redact = r
	})
}

// WithSecret makes the embedded endpoint require this shared secret, as
// the login credential or the "secret" query parameter. The Redux DevTools
// web UI has no field for either, so it cannot connect to an endpoint with
// a secret; such an endpoint is for monitors you script (socketcluster
// clients), and the UI is for an endpoint on loopback.
func WithSecret(s string) Option { return optionFunc(func(c *config) { c.secret = s }) }

// WithAllowedOrigins sets the Origins the embedded endpoint accepts, in
// addition to connections without an Origin (non-browser clients) and
// pages served from 127.0.0.1 or localhost.
func WithAllowedOrigins(origins ...string) Option {
	return optionFunc(func(c *config) { c.origins = append(c.origins, origins...) })
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("devtools: WithLogger(nil)"))
			return
		}
		c.log = l
	})
}

// MaxQueue is the largest WithQueue: the store subscription's buffer is
// allocated up front, so a larger one would be an allocation failure, not
// a queue.
const MaxQueue = 1 << 20

// WithQueue sets how many store changes wait for the network before they
// are dropped and counted (default 1024, at most MaxQueue).
func WithQueue(n int) Option { return optionFunc(func(c *config) { c.queue = n }) }

// WithMaxConnections limits how many monitors the embedded endpoint serves
// at once, counting those still in their websocket handshake (default
// 64). Above it a connection is refused with HTTP 503 Service Unavailable
// before it is upgraded, and counted in Stats.Refused. Each monitor costs
// about 10 KiB while idle (its goroutines, a 1 KiB read buffer, its
// queue's bookkeeping), plus the frames it has not taken yet, at most
// WithQueue of them.
func WithMaxConnections(n int) Option { return optionFunc(func(c *config) { c.maxConns = n }) }

// WithMaxFrame limits the size of an incoming frame (default 1 MiB).
func WithMaxFrame(n int64) Option { return optionFunc(func(c *config) { c.maxFrame = n }) }

// WithPingInterval sets how often the embedded endpoint pings monitors
// (default 8 s, as SocketCluster).
func WithPingInterval(d time.Duration) Option { return optionFunc(func(c *config) { c.pingEvery = d }) }
