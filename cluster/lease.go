package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/samber/lo"
)

// Errors of the lease calls.
var (
	// ErrHeld: another node holds the bot's lease.
	ErrHeld = errors.New("cluster: lease held by another node")
	// ErrQuiet: the bot's fence was (re)created, by a first use or after
	// Redis lost its data; no grant until one lease has passed.
	ErrQuiet = errors.New("cluster: quiet period after the keyspace was (re)created")
	// ErrOffered: a graceful handover reserves the bot for another node.
	ErrOffered = errors.New("cluster: reserved for another node by a handover")
	// ErrLost: the lease is no longer this node's (expired and taken, or
	// lost with Redis's data).
	ErrLost = errors.New("cluster: lease lost")
	// ErrFenced: a fenced write was refused: the writer's lease or token
	// is no longer the latest.
	ErrFenced = errors.New("cluster: fenced")
)

// Timing is the lease timing, as Kubernetes' leader leases have it.
//
// A holder renews every Retry. It drives the bot until RenewDeadline after
// the moment it sent its last successful grant or renewal, by its own
// monotonic clock; after that it refuses every call into the puppet and
// stops it. Redis expires the lease Lease after it ran that command, which
// is later. A standby tries every Retry, so a dead holder's bot is taken
// within Lease + Retry.
//
// The clocks: no two clocks are compared. The holder measures from before
// it sent the command, Redis from when it ran it, so the holder's end
// comes first as long as the holder's clock does not run more than
// (Lease−RenewDeadline)/RenewDeadline faster than Redis's (a third, with
// the defaults), and that margin is also the time the holder has to stop
// its puppet's calls. Clock jumps do not matter: Go's timers and
// time.Since use the monotonic clock, and Redis expires keys by its own.
type Timing struct {
	Lease         time.Duration // how long Redis keeps a lease without renewal (default 15 s)
	RenewDeadline time.Duration // how long the holder drives after its last successful renewal was sent (default 10 s)
	Retry         time.Duration // how often holders renew and standbys try (default 2 s)
}

// DefaultTiming is Kubernetes' leader-election timing.
var DefaultTiming = Timing{Lease: 15 * time.Second, RenewDeadline: 10 * time.Second, Retry: 2 * time.Second}

// Validate checks Retry < RenewDeadline < Lease, in whole milliseconds.
func (t Timing) Validate() error {
	switch {
	case t.Retry < time.Millisecond || t.RenewDeadline < time.Millisecond || t.Lease < time.Millisecond:
		return fmt.Errorf("cluster: timing %v: every duration must be at least 1 ms", t)
	case t.RenewDeadline >= t.Lease:
		return fmt.Errorf("cluster: timing: the renew deadline (%v) must be shorter than the lease (%v)", t.RenewDeadline, t.Lease)
	case t.Retry >= t.RenewDeadline:
		return fmt.Errorf("cluster: timing: the retry period (%v) must be shorter than the renew deadline (%v)", t.Retry, t.RenewDeadline)
	}
	return nil
}

// Lease is one bot's lease as its holder knows it.
type Lease struct {
	Bot   string
	Node  string
	Token uint64
	// Until is when the holder stops driving: RenewDeadline after it sent
	// the last successful grant or renewal (a monotonic reading).
	Until time.Time
}

// Value is the lease key's value, "node|token".
func (l Lease) Value() string { return l.Node + "|" + strconv.FormatUint(l.Token, 10) }

// Leases grants, renews and releases bots' leases for one node.
type Leases struct {
	rdb    redis.UniversalClient
	keys   Keys
	node   string
	timing Timing
	now    func() time.Time
	ack    ReplicaAck   // off unless WithReplicaAck
	acks   *ackCounters // what the replicas did not acknowledge
}

// NewLeases returns the lease calls of node on rdb under prefix.
func NewLeases(rdb redis.UniversalClient, prefix, node string, t Timing) (*Leases, error) {
	switch {
	case rdb == nil:
		return nil, errors.New("cluster: nil Redis client")
	case node == "" || strings.ContainsAny(node, "|{}"):
		return nil, fmt.Errorf("cluster: node name %q: want a non-empty name without '|', '{' or '}'", node)
	}
	keys := Keys{Prefix: prefix}
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &Leases{rdb: rdb, keys: keys, node: node, timing: t, now: time.Now, acks: &ackCounters{}}, nil
}

// Node is the node these leases are granted to.
func (ls *Leases) Node() string { return ls.node }

// Grant takes the bot's lease if it is free. It returns ErrHeld,
// ErrQuiet or ErrOffered (wrapped, with how long that lasts) when it is
// not. A lease this node already holds (a grant whose answer was lost) is
// returned as granted.
//
// With replica acks on (WithReplicaAck), a grant the replicas did not
// acknowledge is given up at once (released, best effort: else it runs
// out) and Grant returns ErrNotReplicated: the caller must not drive the
// bot.
func (ls *Leases) Grant(ctx context.Context, bot string) (Lease, error) {
	if err := checkBot(bot); err != nil {
		return Lease{}, err
	}
	sent := ls.now()
	cmd, waitErr := ls.runScript(ctx, grantScript, grantLua, ls.keys.bot(bot), ls.node, ms(ls.timing.Lease))
	res, err := cmd.Slice()
	if err != nil {
		return Lease{}, fmt.Errorf("cluster: grant %q: %w", bot, err)
	}
	status, _ := res[0].(string)
	switch status {
	case "OK":
		tok, err := strconv.ParseUint(fmt.Sprint(res[1]), 10, 64)
		if err != nil {
			return Lease{}, fmt.Errorf("cluster: grant %q: bad token %v", bot, res[1])
		}
		l := Lease{Bot: bot, Node: ls.node, Token: tok, Until: sent.Add(ls.timing.RenewDeadline)}
		if waitErr != nil {
			ls.acks.grants.Add(1)
			ls.giveUp(ctx, l)
			return Lease{}, fmt.Errorf("cluster: grant %q (token %d) given up: %w", bot, tok, waitErr)
		}
		return l, nil
	case "HELD":
		node, tok, ok := parseValue(fmt.Sprint(res[1]))
		if ok && node == ls.node {
			// Ours: an earlier grant ran but its answer never came back.
			// Its PTTL says when Redis ends it; renew to know the end.
			l := Lease{Bot: bot, Node: ls.node, Token: tok}
			if err := ls.Renew(ctx, &l); err != nil {
				if errors.Is(err, ErrNotReplicated) {
					ls.giveUp(ctx, l)
				}
				return Lease{}, err
			}
			return l, nil
		}
		return Lease{}, fmt.Errorf("%w: %q by %q for %v", ErrHeld, bot, node, pttl(res))
	case "QUIET":
		return Lease{}, fmt.Errorf("%w: %q for %v", ErrQuiet, bot, pttl(res))
	case "OFFERED":
		return Lease{}, fmt.Errorf("%w: %q to %q for %v", ErrOffered, bot, res[1], pttl(res))
	}
	return Lease{}, fmt.Errorf("cluster: grant %q: unexpected reply %v", bot, res)
}

// Renew extends l; on success l.Until moves to RenewDeadline after the
// moment Renew sent the command. It returns ErrLost when the lease is no
// longer l's, and Redis's error otherwise (l.Until unchanged: the holder
// drives until then and may retry). With replica acks on, a renewal the
// replicas did not acknowledge returns ErrNotReplicated, l.Until
// unchanged, as for an error.
func (ls *Leases) Renew(ctx context.Context, l *Lease) error {
	sent := ls.now()
	cmd, waitErr := ls.runScript(ctx, renewScript, renewLua, []string{ls.keys.Lease(l.Bot)}, l.Value(), ms(ls.timing.Lease))
	n, err := cmd.Int()
	if err != nil {
		return fmt.Errorf("cluster: renew %q: %w", l.Bot, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: %q (token %d)", ErrLost, l.Bot, l.Token)
	}
	if waitErr != nil {
		ls.acks.renewals.Add(1)
		return fmt.Errorf("cluster: renew %q: %w", l.Bot, waitErr)
	}
	l.Until = sent.Add(ls.timing.RenewDeadline)
	return nil
}

// Release ends l. With to set, it is a graceful handover: the bot is
// reserved for node to for one lease. It returns ErrLost when the lease
// was no longer l's.
func (ls *Leases) Release(ctx context.Context, l Lease, to string) error {
	n, err := releaseScript.Run(ctx, ls.rdb, ls.keys.bot(l.Bot), l.Value(), to, ms(ls.timing.Lease)).Int()
	if err != nil {
		return fmt.Errorf("cluster: release %q: %w", l.Bot, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: %q (token %d)", ErrLost, l.Bot, l.Token)
	}
	return nil
}

// Fenced runs a fenced write (a script built by NewFenceScript) for the
// holder of l: keys and args follow the lease's. A refusal is ErrFenced.
func (ls *Leases) Fenced(ctx context.Context, s *redis.Script, l Lease, keys []string, args ...any) *redis.Cmd {
	k := append([]string{ls.keys.Lease(l.Bot), ls.keys.Fence(l.Bot)}, keys...)
	a := append([]any{l.Value(), strconv.FormatUint(l.Token, 10)}, args...)
	return s.Run(ctx, ls.rdb, k, a...)
}

// IsFenced reports whether err is a fenced write's refusal.
func IsFenced(err error) bool {
	return err != nil && (errors.Is(err, ErrFenced) || strings.HasPrefix(err.Error(), "FENCED"))
}

// giveUp releases a grant the replicas did not acknowledge, best effort
// (a lease not released runs out by itself).
func (ls *Leases) giveUp(ctx context.Context, l Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ls.timing.Retry)
	defer cancel()
	_ = ls.Release(ctx, l, "")
}

func checkBot(bot string) error {
	if bot == "" || strings.ContainsAny(bot, "{}") {
		return fmt.Errorf("cluster: bot name %q: want a non-empty name without '{' or '}'", bot)
	}
	return nil
}

func parseValue(v string) (node string, token uint64, ok bool) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 {
		return "", 0, false
	}
	tok, err := strconv.ParseUint(v[i+1:], 10, 64)
	return v[:i], tok, err == nil
}

func pttl(res []any) time.Duration {
	if len(res) < 3 {
		return 0
	}
	n, _ := res[2].(int64)
	return time.Duration(n) * time.Millisecond
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// RenewAll renews every lease in one round trip (a pipeline) and returns
// each one's error, as Renew would; the Until of each renewed lease
// moves. With replica acks on, one WAIT ends the pipeline: it covers
// every renewal before it on that connection.
func (ls *Leases) RenewAll(ctx context.Context, leases []Lease) []error {
	errs := make([]error, len(leases))
	if len(leases) == 0 {
		return errs
	}
	sent := ls.now()
	add := func(pipe redis.Pipeliner, _ bool) []*redis.Cmd {
		return lo.Map(leases, func(l Lease, _ int) *redis.Cmd {
			return pipe.Eval(ctx, renewLua, []string{ls.keys.Lease(l.Bot)}, l.Value(), ms(ls.timing.Lease))
		})
	}
	var cmds []*redis.Cmd
	var waitErr error
	if ls.ack.Replicas == 0 {
		pipe := ls.rdb.Pipeline()
		cmds = add(pipe, false)
		_, _ = pipe.Exec(ctx)
	} else if cmds, waitErr = ls.acked(ctx, ls.keys.Lease(leases[0].Bot), add); cmds == nil {
		for i := range errs {
			errs[i] = fmt.Errorf("cluster: renew %q: %w", leases[i].Bot, waitErr)
		}
		return errs
	}
	for i, cmd := range cmds {
		n, err := cmd.Int()
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("cluster: renew %q: %w", leases[i].Bot, err)
		case n != 1:
			errs[i] = fmt.Errorf("%w: %q (token %d)", ErrLost, leases[i].Bot, leases[i].Token)
		case waitErr != nil:
			ls.acks.renewals.Add(1)
			errs[i] = fmt.Errorf("cluster: renew %q: %w", leases[i].Bot, waitErr)
		default:
			leases[i].Until = sent.Add(ls.timing.RenewDeadline)
		}
	}
	return errs
}
