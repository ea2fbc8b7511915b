//go:build integration

package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/cluster/redistest"
	"github.com/hawechaty/hawechaty/puppet"
)

var ackTiming = Timing{Lease: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, Retry: 400 * time.Millisecond}

// pastQuiet sets the bots' fences, as if their first quiet period had
// passed.
func pastQuiet(t testing.TB, rdb redis.UniversalClient, prefix string, bots ...string) {
	for _, b := range bots {
		require.NoError(t, rdb.Set(context.Background(), Keys{Prefix: prefix}.Fence(b), "1", 0).Err())
	}
}

// With a real replica: an acknowledged grant is on the replica when Grant
// returns; with the replica killed, grants are refused within WAIT's
// timeout and given back, renewals do not move the end, and the option
// off keeps today's behaviour (the primary alone decides).
func TestReplicaAckOnRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	rep := redistest.StartReplica(t, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	replica := redis.NewClient(&redis.Options{Addr: rep.Addr, MaxRetries: -1})
	defer replica.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plain, err := NewLeases(rdb, "ra", "a", ackTiming)
	require.NoError(t, err)
	a, err := plain.WithReplicaAck(ReplicaAck{Replicas: 1, Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	pastQuiet(t, rdb, "ra", "bot1", "bot2", "bot3")

	l, err := a.Grant(ctx, "bot1")
	require.NoError(t, err)
	v, err := replica.Get(ctx, Keys{Prefix: "ra"}.Lease("bot1")).Result()
	require.NoError(t, err, "acknowledged: the replica holds the lease")
	assert.Equal(t, l.Value(), v)
	fence, err := replica.Get(ctx, Keys{Prefix: "ra"}.Fence("bot1")).Uint64()
	require.NoError(t, err)
	assert.Equal(t, l.Token, fence, "and its fence")
	require.NoError(t, a.Renew(ctx, &l))

	rep.Kill()
	gctx, gcancel := context.WithTimeout(ctx, ackTiming.Retry) // WAIT's timeout, with room
	_, err = a.Grant(gctx, "bot2")
	gcancel()
	require.ErrorIs(t, err, ErrNotReplicated, "no replica: refused within the timeout")
	assert.ErrorIs(t, rdb.Get(ctx, Keys{Prefix: "ra"}.Lease("bot2")).Err(), redis.Nil, "and given back")
	until := l.Until
	require.ErrorIs(t, a.Renew(ctx, &l), ErrNotReplicated)
	assert.Equal(t, until, l.Until, "the end did not move")
	assert.Equal(t, AckStats{Grants: 1, Renewals: 1}, a.Unacked())

	_, err = plain.Grant(ctx, "bot3")
	assert.NoError(t, err, "off: the primary alone decides, as before")
}

// A failover to the replica that acknowledged keeps the grant: the new
// primary refuses another node's grant until the lease runs out, and its
// fence goes on from the holder's token.
func TestAcknowledgedGrantSurvivesAFailover(t *testing.T) {
	srv := redistest.Start(t)
	rep := redistest.StartReplica(t, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer rdb.Close()
	promoted := redis.NewClient(&redis.Options{Addr: rep.Addr})
	defer promoted.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plain, err := NewLeases(rdb, "fo", "a", ackTiming)
	require.NoError(t, err)
	a, err := plain.WithReplicaAck(ReplicaAck{Replicas: 1, Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	pastQuiet(t, rdb, "fo", "bot")
	la, err := a.Grant(ctx, "bot")
	require.NoError(t, err)

	srv.Kill() // the primary dies; the replica is promoted (as Sentinel would)
	require.NoError(t, promoted.ReplicaOf(ctx, "NO", "ONE").Err())
	b, err := NewLeases(promoted, "fo", "b", ackTiming)
	require.NoError(t, err)
	_, err = b.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrHeld, "the grant survived the failover")
	var lb Lease
	require.Eventually(t, func() bool { lb, err = b.Grant(ctx, "bot"); return err == nil }, 10*time.Second, 10*time.Millisecond,
		"the lease runs out on the new primary")
	assert.Greater(t, lb.Token, la.Token, "tokens go on growing")
}

// The process drives a bot only on an acknowledged grant: with the
// replica killed it drives no new bot, stops the one it has at its renew
// deadline, and drives both again once the replica is back.
func TestClusterWithReplicaAckOnRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	rep := redistest.StartReplica(t, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	pastQuiet(t, rdb, "rc", "bot1", "bot2")
	w := newWorld()
	c, err := New("", WithClient(rdb), WithNode("a"), WithPrefix("rc"), WithTiming(ackTiming),
		WithReplicaAck(1, 200*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, c.Register("bot1", &fakePuppet{w: w, node: "a", bot: "bot1", events: make(chan puppet.Event)}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, c.Start(ctx, &fakeDriver{ps: map[string]puppet.Puppet{}}))
	defer func() { require.NoError(t, c.Stop(context.Background())) }()
	require.Eventually(t, func() bool { return fmt.Sprint(w.drivers("bot1")) == "[a]" }, 10*time.Second, 10*time.Millisecond)

	rep.Kill()
	require.NoError(t, c.Register("bot2", &fakePuppet{w: w, node: "a", bot: "bot2", events: make(chan puppet.Event)}))
	require.Eventually(t, func() bool { return c.Leases().Unacked().Grants >= 2 }, 10*time.Second, 10*time.Millisecond,
		"bot2's grants are refused")
	require.Eventually(t, func() bool { return len(w.drivers("bot1")) == 0 }, 10*time.Second, 10*time.Millisecond,
		"bot1 stops at its renew deadline")
	assert.Empty(t, c.Held())
	w.mu.Lock()
	assert.Empty(t, w.starts["bot2"], "bot2 was never driven")
	w.mu.Unlock()
	assert.Positive(t, c.Leases().Unacked().Renewals)

	rep.Restart()
	require.Eventually(t, func() bool { return len(c.Held()) == 2 }, 10*time.Second, 10*time.Millisecond,
		"the replica back: both driven")
	assert.Equal(t, 1, w.maxDrivers())
}

// BenchmarkGrantReplicaAck measures what WithReplicaAck costs, against a
// real primary with one replica on this machine, in the same run: a
// grant (and the release that frees the bot again) and a pipelined
// renewal of 10 leases, without the option (off) and with WAIT 1
// (wait-1: one more command in the same round trip, answered once the
// replica has acknowledged).
func BenchmarkGrantReplicaAck(b *testing.B) {
	srv := redistest.Start(b)
	redistest.StartReplica(b, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	plain, err := NewLeases(rdb, "bench", "n1", DefaultTiming)
	require.NoError(b, err)
	acked, err := plain.WithReplicaAck(ReplicaAck{Replicas: 1, Timeout: time.Second})
	require.NoError(b, err)
	bots := make([]string, 10)
	for i := range bots {
		bots[i] = fmt.Sprintf("bot-%d", i)
	}
	pastQuiet(b, rdb, "bench", append(bots, "one")...)
	for _, v := range []struct {
		name string
		ls   *Leases
	}{{"off", plain}, {"wait-1", acked}} {
		b.Run("grant+release/"+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := v.ls.Grant(ctx, "one")
				if err != nil {
					b.Fatal(err)
				}
				if err := v.ls.Release(ctx, l, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		leases := make([]Lease, len(bots))
		for i, bot := range bots {
			leases[i], err = v.ls.Grant(ctx, bot)
			require.NoError(b, err)
		}
		b.Run("renew-all-10/"+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range v.ls.RenewAll(ctx, leases) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		for _, l := range leases {
			require.NoError(b, v.ls.Release(ctx, l, ""))
		}
	}
}

// On Redis Cluster the WAIT goes to the master of the pool's slot, on the
// grant's connection: a cluster without replicas acknowledges nothing, so
// the grant is refused as not replicated (not MOVED, not CROSSSLOT) and
// given back.
func TestReplicaAckOnRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: rc.Addrs})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plain, err := NewLeases(rdb, "rcl", "a", ackTiming)
	require.NoError(t, err)
	a, err := plain.WithReplicaAck(ReplicaAck{Replicas: 1, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	pastQuiet(t, rdb, "rcl", "bot")
	_, err = a.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrNotReplicated)
	assert.Contains(t, err.Error(), "0 of 1 replicas")
	assert.ErrorIs(t, rdb.Get(ctx, Keys{Prefix: "rcl"}.Lease("bot")).Err(), redis.Nil, "given back")
	l, err := plain.Grant(ctx, "bot")
	require.NoError(t, err, "off: granted")
	ls := []Lease{l}
	assert.ErrorIs(t, a.RenewAll(ctx, ls)[0], ErrNotReplicated)
}
