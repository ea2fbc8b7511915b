package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated: Redis's primary ran a grant or a renewal, but fewer
// replicas than WithReplicaAck asks acknowledged it within its timeout
// (or WAIT failed). A grant in that state is given up and its bot not
// driven; a renewal in that state does not move the holder's end.
var ErrNotReplicated = errors.New("cluster: not acknowledged by enough replicas")

// ReplicaAck is what a grant or renewal must get from Redis's replicas
// before the holder counts on it (WithReplicaAck): WAIT Replicas Timeout
// after it, on the same connection. Replicas 0 (the default) asks
// nothing and sends no WAIT.
type ReplicaAck struct {
	Replicas int           // how many replicas must acknowledge (0: off)
	Timeout  time.Duration // how long WAIT waits for them (at least 1 ms when Replicas > 0)
}

// Validate checks the numbers against the lease timing: WAIT's timeout
// must leave room in one Retry (the loop's grants and renewals run within
// one).
func (a ReplicaAck) Validate(t Timing) error {
	switch {
	case a.Replicas < 0:
		return fmt.Errorf("cluster: replica ack: %d replicas, want 0 (off) or more", a.Replicas)
	case a.Replicas == 0:
		return nil
	case a.Timeout < time.Millisecond:
		return fmt.Errorf("cluster: replica ack: timeout %v, want at least 1 ms (WAIT 0 would block for ever)", a.Timeout)
	case a.Timeout >= t.Retry:
		return fmt.Errorf("cluster: replica ack: timeout %v, want less than the retry period (%v)", a.Timeout, t.Retry)
	}
	return nil
}

// AckStats counts what the replicas did not acknowledge.
type AckStats struct {
	// Grants refused: granted by the primary, not acknowledged, so given
	// up without driving the bot.
	Grants int64
	// Renewals not acknowledged: the holder's end did not move (it drives
	// on until its renew deadline, and stops then unless a later renewal
	// is acknowledged).
	Renewals int64
}

type ackCounters struct{ grants, renewals atomic.Int64 }

// WithReplicaAck returns leases like ls that count a grant or renewal
// only once a.Replicas replicas acknowledged it (see Cluster's
// WithReplicaAck for what that guarantees). Its AckStats start at zero.
func (ls *Leases) WithReplicaAck(a ReplicaAck) (*Leases, error) {
	if err := a.Validate(ls.timing); err != nil {
		return nil, err
	}
	return &Leases{rdb: ls.rdb, keys: ls.keys, node: ls.node, timing: ls.timing, now: ls.now, ack: a, acks: &ackCounters{}}, nil
}

// ReplicaAck is what these leases ask of the replicas.
func (ls *Leases) ReplicaAck() ReplicaAck { return ls.ack }

// Unacked counts the grants and renewals the replicas did not
// acknowledge.
func (ls *Leases) Unacked() AckStats {
	if ls.acks == nil {
		return AckStats{}
	}
	return AckStats{Grants: ls.acks.grants.Load(), Renewals: ls.acks.renewals.Load()}
}

// pipeline returns a pipeline on the connection pool of the server that
// holds key: under Redis Cluster, the master of the pool's slot (WAIT has
// no key to route by, and must follow the write on its connection).
func (ls *Leases) pipeline(ctx context.Context, key string) (redis.Pipeliner, error) {
	if cc, ok := ls.rdb.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return m.Pipeline(), nil
	}
	return ls.rdb.Pipeline(), nil
}

// acked runs the scripts of add, then WAIT, in one pipeline on one
// connection (WAIT waits for the writes its own connection made), and
// returns the scripts' commands and WAIT's verdict: nil when enough
// replicas acknowledged, ErrNotReplicated (wrapped) otherwise. A script
// not cached on the server is sent again in full.
func (ls *Leases) acked(ctx context.Context, key string, add func(p redis.Pipeliner, load bool) []*redis.Cmd) ([]*redis.Cmd, error) {
	var cmds []*redis.Cmd
	var wait *redis.Cmd
	for _, load := range []bool{false, true} {
		pipe, err := ls.pipeline(ctx, key)
		if err != nil {
			return nil, err
		}
		cmds = add(pipe, load)
		wait = pipe.Do(ctx, "wait", ls.ack.Replicas, ms(ls.ack.Timeout))
		_, _ = pipe.Exec(ctx)
		if load || len(cmds) == 0 || !redis.HasErrorPrefix(cmds[0].Err(), "NOSCRIPT") {
			break
		}
	}
	n, err := wait.Int64()
	switch {
	case err != nil:
		return cmds, fmt.Errorf("%w: WAIT %d %v: %w", ErrNotReplicated, ls.ack.Replicas, ls.ack.Timeout, err)
	case n < int64(ls.ack.Replicas):
		return cmds, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, n, ls.ack.Replicas, ls.ack.Timeout)
	}
	return cmds, nil
}

// runScript runs s (source lua) on keys, followed by WAIT when replica
// acks are on. Without them the WAIT verdict is always nil.
func (ls *Leases) runScript(ctx context.Context, s *redis.Script, lua string, keys []string, args ...any) (*redis.Cmd, error) {
	if ls.ack.Replicas == 0 {
		return s.Run(ctx, ls.rdb, keys, args...), nil
	}
	cmds, waitErr := ls.acked(ctx, keys[0], func(p redis.Pipeliner, load bool) []*redis.Cmd {
		if load {
			return []*redis.Cmd{p.Eval(ctx, lua, keys, args...)}
		}
		return []*redis.Cmd{p.EvalSha(ctx, s.Hash(), keys, args...)}
	})
	if cmds == nil { // no pipeline: waitErr says why
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(waitErr)
		return cmd, nil
	}
	return cmds[0], waitErr
}
