//go:build integration

package cluster

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/cluster/redistest"
	"github.com/hawechaty/hawechaty/puppet"
)

// The pool on a real Redis Cluster of three masters, through go-redis's
// universal client given the three addresses (a ClusterClient): every key
// of a pool carries the hash tag {P}, so the multi-key scripts and
// transactions (the fenced append, the snapshot's compare-and-set, a
// forwarded send's answer) run on one shard instead of failing with
// CROSSSLOT.
func TestOnRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: rc.Addrs, PoolSize: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	cc, ok := rdb.(*redis.ClusterClient)
	require.True(t, ok, "three addresses make a ClusterClient, not %T", rdb)
	seeds := strings.Join(rc.Addrs, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Each part starts on an empty keyspace.
	run := func(name string, f func(t *testing.T)) {
		require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() }))
		t.Run(name, f)
	}

	run("one slot per pool", func(t *testing.T) { testPoolIsOneSlot(t, cc) })
	run("leases", func(t *testing.T) { testLeasesOnRedisCluster(t, rdb) })
	run("fenced publish and follow", func(t *testing.T) { testFeedMirrorsTheOwnersFacts(t, rdb) })
	run("former owner fenced", func(t *testing.T) { testFeedRefusesAFormerOwner(t, rdb) })
	run("snapshots race publishes", func(t *testing.T) { testJoinRacesPublishes(t, rdb) })
	run("forwarded send", func(t *testing.T) { testForwardedSendIsDeliveredByItsOwner(t, seeds) })
	run("forward never picked up", func(t *testing.T) { testForwardNeverPickedUpIsRetriedElsewhere(t, seeds) })
	run("inbound claims", func(t *testing.T) { testInboundOnceClusterWide(t, rdb) })
	run("inbound content claims", func(t *testing.T) { testInboundContentOnce(t, rdb) })
	run("owners share the bots", func(t *testing.T) { testOwnersOnRedisCluster(t, rc.Addrs) })
}

// testOwnersOnRedisCluster: two processes' Clusters (heartbeats, the
// pipelined look-up of free bots, grants, renewals, the login semaphore)
// share four bots on the Redis Cluster; a clean stop hands the stopped
// one's bots to the other. Never two drivers at once.
func testOwnersOnRedisCluster(t *testing.T, addrs []string) {
	tm := Timing{Lease: 600 * time.Millisecond, RenewDeadline: 400 * time.Millisecond, Retry: 100 * time.Millisecond}
	w := newWorld()
	bots := botNames(4)
	start := func(name string, capacity int) *Cluster {
		rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs})
		c, err := New("", WithClient(rdb), WithNode(name), WithTiming(tm), WithPrefix("owners"), WithCapacity(capacity))
		require.NoError(t, err)
		for _, b := range bots {
			require.NoError(t, c.Register(b, &fakePuppet{w: w, node: name, bot: b, events: make(chan puppet.Event)}))
		}
		require.NoError(t, c.Start(context.Background(), &fakeDriver{ps: map[string]puppet.Puppet{}}))
		t.Cleanup(func() { _ = c.Stop(context.Background()); _ = rdb.Close() })
		return c
	}
	a := start("a", 2)
	b := start("b", 4)
	// Held counts a grant at once; its puppet starts after a login slot.
	drivenBy := func(nodes ...string) bool {
		for _, bot := range bots {
			if d := w.drivers(bot); len(d) != 1 || !slices.Contains(nodes, d[0]) {
				return false
			}
		}
		return true
	}
	require.Eventually(t, func() bool { return len(a.Held())+len(b.Held()) == 4 && drivenBy("a", "b") }, 10*time.Second, 10*time.Millisecond,
		"every bot is driven, once, after the first use's quiet period")
	assert.LessOrEqual(t, len(a.Held()), 2, "a's capacity")

	require.NoError(t, a.Stop(context.Background()))
	require.Eventually(t, func() bool { return len(b.Held()) == 4 && drivenBy("b") }, 10*time.Second, 10*time.Millisecond,
		"b takes the bots a released")
	assert.Equal(t, 1, w.maxDrivers(), "never two drivers at once")
}

// testPoolIsOneSlot: every key of a pool hashes to one slot, on one
// master; pools under different prefixes spread over the masters.
func testPoolIsOneSlot(t *testing.T, cc *redis.ClusterClient) {
	ctx := context.Background()
	k := Keys{Prefix: DefaultPrefix}
	all := append(k.bot("bot-1"), k.bot("another-bot")...)
	all = append(all, k.Epoch(), k.Node("n1"), k.Slots("logins"), k.Events(), k.Snapshot(),
		k.Sends("n1"), k.Results("n2"), k.Seen("msg-1"))
	want, err := cc.ClusterKeySlot(ctx, k.Events()).Result()
	require.NoError(t, err)
	for _, key := range all {
		slot, err := cc.ClusterKeySlot(ctx, key).Result()
		require.NoError(t, err)
		assert.Equal(t, want, slot, key)
	}

	masters := map[string]string{} // master → a prefix on it
	for _, p := range []string{"pool-a", "pool-b", "pool-c", "pool-d", "pool-e", "pool-f", "pool-g", "pool-h"} {
		m, err := cc.MasterForKey(ctx, Keys{Prefix: p}.Events())
		require.NoError(t, err)
		masters[m.Options().Addr] = p
	}
	require.Greater(t, len(masters), 1, "eight pools all on one master: prefixes do not spread")

	// The cluster does refuse a script across slots: keys of two pools.
	prefixes := slices.Collect(maps.Values(masters))
	err = FenceScript.Run(ctx, cc, []string{Keys{Prefix: prefixes[0]}.Lease("b"), Keys{Prefix: prefixes[0]}.Fence("b"),
		Keys{Prefix: prefixes[1]}.Events()}, "n|1", "1", "type", "x").Err()
	assert.ErrorContains(t, err, "CROSSSLOT")
}

// testLeasesOnRedisCluster: grant (after the first use's quiet period),
// renew, renew all (pipelined), a fenced append to the pool's stream, a
// handover release, the new holder's grant, the former holder fenced
// off, and the login semaphore.
func testLeasesOnRedisCluster(t *testing.T, rdb redis.UniversalClient) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tm := Timing{Lease: 400 * time.Millisecond, RenewDeadline: 300 * time.Millisecond, Retry: 50 * time.Millisecond}
	a, err := NewLeases(rdb, "rc", "a", tm)
	require.NoError(t, err)
	b, err := NewLeases(rdb, "rc", "b", tm)
	require.NoError(t, err)
	k := Keys{Prefix: "rc"}

	_, err = a.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrQuiet, "a new keyspace is quiet for one lease")
	var la Lease
	require.Eventually(t, func() bool { la, err = a.Grant(ctx, "bot"); return err == nil }, 5*time.Second, 10*time.Millisecond)
	_, err = b.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrHeld)
	require.NoError(t, a.Renew(ctx, &la))
	for _, err := range a.RenewAll(ctx, []Lease{la}) {
		require.NoError(t, err)
	}
	require.NoError(t, a.Fenced(ctx, FenceScript, la, []string{k.Events()}, "bot", "bot", "type", "x").Err())

	require.NoError(t, a.Release(ctx, la, "b"), "a hands the bot over to b")
	assert.ErrorIs(t, a.Renew(ctx, &la), ErrLost)
	lb, err := b.Grant(ctx, "bot")
	require.NoError(t, err)
	assert.Greater(t, lb.Token, la.Token)
	err = a.Fenced(ctx, FenceScript, la, []string{k.Events()}, "bot", "bot", "type", "stale").Err()
	assert.True(t, IsFenced(err), "%v", err)
	require.NoError(t, b.Fenced(ctx, FenceScript, lb, []string{k.Events()}, "bot", "bot", "type", "y").Err())
	n, err := rdb.XLen(ctx, k.Events()).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "the stale holder's append was refused")
	require.NoError(t, b.Release(ctx, lb, ""))

	s, err := NewSemaphore(rdb, "rc", "logins", "a", 1, time.Minute, 10*time.Millisecond)
	require.NoError(t, err)
	release, ok, err := s.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "one slot")
	release()
	release, ok, err = s.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok, "the slot came back")
	release()
}
