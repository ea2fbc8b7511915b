package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Option configures a Cluster.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prefix      string
	node        string
	timing      Timing
	capacity    int
	logins      int
	throughDown bool
	ack         ReplicaAck
	client      redis.UniversalClient
	log         *slog.Logger
	errs        []error
}

// DefaultPrefix is the default prefix of every key.
const DefaultPrefix = "hawechaty"

// DefaultLogins is the default cluster-wide cap on concurrent logins and
// resets.
const DefaultLogins = 4

// WithPrefix sets the prefix of every key (default "hawechaty"): pools
// that share a Redis take different prefixes.
func WithPrefix(p string) Option {
	return optionFunc(func(c *config) {
		if p == "" || strings.ContainsAny(p, "{}") {
			c.errs = append(c.errs, fmt.Errorf("cluster: WithPrefix(%q): want a non-empty prefix without braces", p))
			return
		}
		c.prefix = p
	})
}

// WithNode names this process in the cluster (default host-pid-random).
// Every process needs a name of its own, new at every start: a process
// that restarts under its old name would adopt leases it no longer
// drives.
func WithNode(name string) Option {
	return optionFunc(func(c *config) { c.node = name })
}

// WithTiming sets the lease timing (default DefaultTiming: 15 s lease,
// 10 s renew deadline, 2 s retry). See Timing for what rests on it.
func WithTiming(t Timing) Option {
	return optionFunc(func(c *config) {
		if err := t.Validate(); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.timing = t
	})
}

// WithCapacity caps how many bots this process drives at once (default:
// every bot it can drive). A process at capacity stands by: it takes a
// bot only when one of its own ends, or when another process's bot is
// free after that process died.
func WithCapacity(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("cluster: WithCapacity(%d): want at least 1", n))
			return
		}
		c.capacity = n
	})
}

// WithLoginConcurrency caps the logins and resets (puppet Starts) under
// way at once across the cluster (default 4).
func WithLoginConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("cluster: WithLoginConcurrency(%d): want at least 1", n))
			return
		}
		c.logins = n
	})
}

// WithDriveThroughOutage keeps driving the bots this process holds while
// Redis cannot be reached, instead of stopping at the renew deadline.
// The pool stays up through a Redis outage, at a price: should this
// process alone be cut off from a Redis the others still reach, they take
// its bots after the lease and both drive them until it reaches Redis
// again (and learns at its next renewal that the lease is gone). A lease
// that Redis says is lost still stops the bot at once.
func WithDriveThroughOutage() Option {
	return optionFunc(func(c *config) { c.throughDown = true })
}

// WithReplicaAck makes a lease survive a Redis failover (Sentinel, or
// any primary with asynchronous replicas): after every grant and every
// renewal the process sends WAIT n timeout on the same connection, and
// counts the grant or renewal only if n replicas acknowledged it within
// timeout. Default off (n = 0): no WAIT, today's cost.
//
// A grant that fewer than n replicas acknowledged is released at once
// (best effort; else it runs out) and its bot is not driven: the process
// never drove it, so giving it back cannot make a second driver, and the
// bot is free again for the next try rather than blocked for a lease.
// Should the release be lost, or the grant reach a replica after all, the
// worst is a lease nobody drives until it runs out. A renewal that fewer than n
// acknowledged is treated as one that failed: the holder drives on until
// its renew deadline from its last acknowledged grant or renewal, and
// stops then unless a later renewal is acknowledged, so a slow
// acknowledgement does not stop a bot but a replica gone for longer than
// the renew deadline does (choose n below the number of replicas to
// survive one replica's loss; after a replica's full resync Redis
// streams it nothing until its first ACK, up to a second, and WAIT
// answers short meanwhile). Both are logged and counted
// (Leases().Unacked()).
//
// What it guarantees: the holder drives only within RenewDeadline of a
// grant or renewal that the primary ran and n replicas hold in memory,
// and Redis expires a lease no earlier than Lease after it ran that
// command, on the replicas too (Redis 7 replicates the expiry as an
// absolute time). So if a failover promotes one of the replicas that
// acknowledged, the new primary still has the lease and its fence, and
// refuses any other grant until the holder has stopped by its own clock.
// The grant (fence INCR and lease SET, one script, replicated as one
// transaction) and each renewal must be acknowledged; releases, handover
// offers and login slots need not (their loss only delays the next
// grant or lets one more login run).
//
// What it does not: WAIT does not make Redis strongly consistent.
// Sentinel promotes the best replica it can reach, not necessarily one
// that acknowledged (with n = every replica it always is one, unless a
// replica restarted in between); replicas hold the write in memory only
// (one that restarts before the failover lost it); the Redis servers'
// wall clocks must agree within Lease−RenewDeadline (a replica whose
// clock is ahead expires the lease early once promoted). It narrows the
// window Sentinel loses grants in; it does not close it.
// WithDriveThroughOutage drives on without any acknowledgement while
// Redis cannot be reached, which this guarantee does not survive.
//
// timeout must be at least 1 ms and less than Timing's Retry, and less
// than the client's read timeout.
func WithReplicaAck(n int, timeout time.Duration) Option {
	return optionFunc(func(c *config) {
		if n < 0 || (n > 0 && timeout < time.Millisecond) {
			c.errs = append(c.errs, fmt.Errorf("cluster: WithReplicaAck(%d, %v): want n ≥ 0 and, when n > 0, a timeout of at least 1 ms", n, timeout))
			return
		}
		c.ack = ReplicaAck{Replicas: n, Timeout: timeout}
	})
}

// WithClient uses an existing client (a Sentinel failover client, a
// Cluster client…) instead of one opened from the URL; New's URL must
// then be empty. The caller closes it.
func WithClient(rdb redis.UniversalClient) Option {
	return optionFunc(func(c *config) {
		if rdb == nil {
			c.errs = append(c.errs, errors.New("cluster: WithClient(nil)"))
			return
		}
		c.client = rdb
	})
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("cluster: WithLogger(nil)"))
			return
		}
		c.log = l
	})
}

func newConfig(opts []Option) (config, error) {
	c := config{prefix: DefaultPrefix, timing: DefaultTiming, logins: DefaultLogins, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			return c, errors.New("cluster: nil option")
		}
		o.apply(&c)
	}
	if c.node == "" {
		c.node = defaultNode()
	}
	if len(c.errs) == 0 {
		if err := c.ack.Validate(c.timing); err != nil {
			c.errs = append(c.errs, err)
		}
	}
	return c, errors.Join(c.errs...)
}

func defaultNode() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r == '|' || r == '{' || r == '}' {
			return '-'
		}
		return r
	}, host)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Open returns a universal client for a Redis URL:
//
//	redis://[user:password@]host:port[/db]                 one server
//	rediss://…                                             the same over TLS
//	redis://host:port?master_name=NAME&addr=host2:port…    Sentinel (the hosts are sentinels)
//	redis://host:port?addr=host2:port&addr=host3:port      Redis Cluster (seed nodes)
//
// and the query parameters of go-redis's ParseURL, ParseFailoverURL and
// ParseClusterURL. The password never appears in an error.
func Open(redisURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(redisURL)
	if err != nil {
		return nil, fmt.Errorf("cluster: the Redis URL does not parse (%s)", redactURL(redisURL))
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(redisURL)
		if err != nil {
			return nil, fmt.Errorf("cluster: Sentinel URL %s: %s", redactURL(redisURL), redactErr(err, u))
		}
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(redisURL)
		if err != nil {
			return nil, fmt.Errorf("cluster: Redis Cluster URL %s: %s", redactURL(redisURL), redactErr(err, u))
		}
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("cluster: Redis URL %s: %s", redactURL(redisURL), redactErr(err, u))
	}
	return redis.NewClient(o), nil
}

// redactURL prints a URL without its password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

func redactErr(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}
