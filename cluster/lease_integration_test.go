//go:build integration

package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/cluster/redistest"
)

// The scripts against the real server: Lua, PX expiry and TIME are
// Redis's, not miniredis's.
func TestLeaseScriptsOnRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tm := Timing{Lease: 400 * time.Millisecond, RenewDeadline: 300 * time.Millisecond, Retry: 50 * time.Millisecond}
	a, err := NewLeases(rdb, "it", "a", tm)
	require.NoError(t, err)
	b, err := NewLeases(rdb, "it", "b", tm)
	require.NoError(t, err)

	began := time.Now()
	_, err = a.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrQuiet, "a new keyspace is quiet for one lease")
	quiet, err := rdb.PTTL(ctx, Keys{Prefix: "it"}.Quiet("bot")).Result()
	require.NoError(t, err)
	// Set to one lease during Grant: what is left is the lease less at
	// most the time since Grant began (Redis rounds down to the ms),
	// however slow the machine.
	elapsed := time.Since(began)
	assert.LessOrEqual(t, quiet, tm.Lease)
	assert.GreaterOrEqual(t, quiet, tm.Lease-elapsed-time.Millisecond, "quiet for %v, %v after Grant began", quiet, elapsed)

	var la Lease
	require.Eventually(t, func() bool { la, err = a.Grant(ctx, "bot"); return err == nil }, 5*time.Second, 10*time.Millisecond)
	fence, err := rdb.Get(ctx, Keys{Prefix: "it"}.Fence("bot")).Uint64()
	require.NoError(t, err)
	assert.Equal(t, la.Token, fence)
	assert.Greater(t, la.Token, uint64(1_000_000_000_000_000), "the fence starts from the server clock in µs")
	_, err = b.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrHeld)
	require.NoError(t, a.Renew(ctx, &la))

	// Fenced writes: a's passes; once b holds the bot, a's is refused.
	require.NoError(t, a.Fenced(ctx, FenceScript, la, []string{Keys{Prefix: "it"}.Events()}, "bot", "bot", "type", "x").Err())
	var lb Lease
	require.Eventually(t, func() bool { lb, err = b.Grant(ctx, "bot"); return err == nil }, 5*time.Second, 10*time.Millisecond,
		"a stopped renewing: Redis expires its lease")
	assert.Greater(t, lb.Token, la.Token)
	err = a.Fenced(ctx, FenceScript, la, []string{Keys{Prefix: "it"}.Events()}, "bot", "bot", "type", "stale").Err()
	assert.True(t, IsFenced(err), "%v", err)
	assert.ErrorIs(t, a.Renew(ctx, &la), ErrLost)
	n, err := rdb.XLen(ctx, Keys{Prefix: "it"}.Events()).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	// Redis restarted empty: b's renewal fails at once, grants are quiet
	// for one lease, and the new token is still larger.
	srv.Restart()
	require.Eventually(t, func() bool { return rdb.Ping(ctx).Err() == nil }, 10*time.Second, 10*time.Millisecond)
	assert.ErrorIs(t, b.Renew(ctx, &lb), ErrLost)
	t0 := time.Now()
	_, err = a.Grant(ctx, "bot")
	require.ErrorIs(t, err, ErrQuiet)
	var again Lease
	require.Eventually(t, func() bool { again, err = a.Grant(ctx, "bot"); return err == nil }, 5*time.Second, 10*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(t0), tm.Lease-20*time.Millisecond, "no grant within a lease of the loss")
	assert.Greater(t, again.Token, lb.Token, "tokens grow across the loss")
}

// BenchmarkRenewRealRedis is BenchmarkRenew against redis-server.
func BenchmarkRenewRealRedis(b *testing.B) {
	benchRenew(b, redistest.Start(b).Addr)
}
