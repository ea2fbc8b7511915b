package cluster

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mini is a miniredis outside the test's bubble (its accept loop is not
// durably blocked, so inside one the clock would never move) and a client.
// Its keys expire only by FastForward: the tests move it with the bubble's
// clock (advance).
type mini struct {
	m   *miniredis.Miniredis
	rdb *redis.Client
}

func newMini(t *testing.T) *mini {
	m := miniredis.RunT(t)
	return &mini{m: m}
}

// client opens the client; call it inside the bubble.
func (mi *mini) client(t *testing.T) redis.UniversalClient {
	rdb := redis.NewClient(&redis.Options{Addr: mi.m.Addr(), MaxRetries: -1, PoolSize: 4})
	t.Cleanup(func() { _ = rdb.Close() })
	mi.rdb = rdb
	return rdb
}

// advance moves the bubble's clock and miniredis's TTLs by d.
func (mi *mini) advance(d time.Duration) {
	time.Sleep(d)
	mi.m.FastForward(d)
}

var testTiming = Timing{Lease: 15 * time.Second, RenewDeadline: 10 * time.Second, Retry: 2 * time.Second}

func newTestLeases(t *testing.T, rdb redis.UniversalClient, node string) *Leases {
	ls, err := NewLeases(rdb, "t", node, testTiming)
	require.NoError(t, err)
	return ls
}

// settle passes the quiet period that the first grant of a bot starts.
func settle(t *testing.T, mi *mini, ls *Leases, bots ...string) {
	for _, b := range bots {
		_, err := ls.Grant(context.Background(), b)
		require.ErrorIs(t, err, ErrQuiet, "a bot's first grant finds no fence: quiet")
	}
	mi.advance(testTiming.Lease)
}

// leaseRig is a lease test's world, made inside its bubble: a miniredis
// and its client, and the leases of nodes a, b and c on it; a holds
// "bot" (la), granted once its first quiet period had passed.
type leaseRig struct {
	*mini
	a, b, c *Leases
	la      Lease
}

// leaseTest runs f in a synctest bubble on a new leaseRig.
func leaseTest(t *testing.T, f func(t *testing.T, r *leaseRig)) {
	mi := newMini(t)
	synctest.Test(t, func(t *testing.T) {
		rdb := mi.client(t)
		r := &leaseRig{mini: mi, a: newTestLeases(t, rdb, "a"), b: newTestLeases(t, rdb, "b"), c: newTestLeases(t, rdb, "c")}
		settle(t, mi, r.a, "bot")
		var err error
		r.la, err = r.a.Grant(context.Background(), "bot")
		require.NoError(t, err)
		f(t, r)
	})
}

func TestGrantIsExclusiveAndTokensGrow(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		a, b, la := r.a, r.b, r.la

		assert.Equal(t, time.Now().Add(testTiming.RenewDeadline), la.Until, "drives until the renew deadline after sending")
		_, err := b.Grant(ctx, "bot")
		assert.ErrorIs(t, err, ErrHeld)

		require.NoError(t, a.Release(ctx, la, ""))
		assert.ErrorIs(t, a.Release(ctx, la, ""), ErrLost, "a second release finds nothing")
		lb, err := b.Grant(ctx, "bot")
		require.NoError(t, err)
		assert.Greater(t, lb.Token, la.Token, "the fence grows with each holder")
		fence, _ := r.rdb.Get(ctx, Keys{Prefix: "t"}.Fence("bot")).Uint64()
		assert.Equal(t, lb.Token, fence)
	})
}

func TestRenewKeepsTheLeaseAndExpiryLosesIt(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		a, b, la := r.a, r.b, r.la

		// Renewing every Retry keeps it far past one lease.
		for range 20 {
			r.advance(testTiming.Retry)
			require.NoError(t, a.Renew(ctx, &la))
			assert.Equal(t, time.Now().Add(testTiming.RenewDeadline), la.Until)
		}
		_, err := b.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrHeld)

		// a stops renewing: its own end comes first, then Redis's.
		r.advance(testTiming.RenewDeadline)
		assert.False(t, time.Now().Before(la.Until), "a stops driving now")
		_, err = b.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrHeld, "the lease outlives the holder's end: the margin")
		r.advance(testTiming.Lease - testTiming.RenewDeadline)
		lb, err := b.Grant(ctx, "bot")
		require.NoError(t, err, "free once the lease has run out")
		assert.ErrorIs(t, a.Renew(ctx, &la), ErrLost)
		assert.Greater(t, lb.Token, la.Token)
	})
}

func TestDataLossQuietsGrantsForOneLease(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		a, b, la := r.a, r.b, r.la

		r.m.FlushAll() // Redis restarted empty
		assert.ErrorIs(t, a.Renew(ctx, &la), ErrLost, "the holder learns at its next renewal")

		_, err := b.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrQuiet, "no grant while a holder from before may still drive")
		r.advance(testTiming.Lease - time.Millisecond)
		_, err = b.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrQuiet)
		r.advance(time.Millisecond)
		lb, err := b.Grant(ctx, "bot")
		require.NoError(t, err)
		assert.Greater(t, lb.Token, la.Token, "tokens grow across the loss (the fence restarts from the server clock)")
	})
}

func TestAGrantWhoseAnswerWasLostIsAdopted(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		again, err := r.a.Grant(ctx, "bot")
		require.NoError(t, err)
		assert.Equal(t, r.la.Token, again.Token)
	})
}

func TestHandoverReservesTheBot(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		a, b, c, la := r.a, r.b, r.c, r.la
		require.NoError(t, a.Release(ctx, la, "b"))
		_, err := c.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrOffered, "reserved for b")
		_, err = a.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrOffered, "also against the node that handed it over")
		lb, err := b.Grant(ctx, "bot")
		require.NoError(t, err)
		require.NoError(t, b.Release(ctx, lb, ""))
		_, err = c.Grant(ctx, "bot")
		require.NoError(t, err, "the reservation ended with b's grant")
	})
}

func TestFencedWrite(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		ctx := context.Background()
		a, b, la := r.a, r.b, r.la
		id, err := a.Fenced(ctx, FenceScript, la, []string{Keys{Prefix: "t"}.Events()}, "bot", "bot", "type", "x").Text()
		require.NoError(t, err)
		assert.NotEmpty(t, id)

		r.advance(testTiming.Lease)
		lb, err := b.Grant(ctx, "bot")
		require.NoError(t, err)
		err = a.Fenced(ctx, FenceScript, la, []string{Keys{Prefix: "t"}.Events()}, "bot", "bot", "type", "stale").Err()
		assert.True(t, IsFenced(err), "the old holder's write is refused: %v", err)
		require.NoError(t, b.Fenced(ctx, FenceScript, lb, []string{Keys{Prefix: "t"}.Events()}, "bot", "bot", "type", "y").Err())
		n, _ := r.rdb.XLen(ctx, Keys{Prefix: "t"}.Events()).Result()
		assert.EqualValues(t, 2, n)
	})
}

func TestBadInputIsAnError(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	for _, tc := range []struct {
		name, prefix, node string
		timing             Timing
	}{
		{"empty node", "p", "", testTiming},
		{"node with a bar", "p", "a|b", testTiming},
		{"empty prefix", "", "a", testTiming},
		{"renew deadline past the lease", "p", "a", Timing{Lease: time.Second, RenewDeadline: 2 * time.Second, Retry: 100 * time.Millisecond}},
		{"retry past the renew deadline", "p", "a", Timing{Lease: 3 * time.Second, RenewDeadline: 2 * time.Second, Retry: 2 * time.Second}},
		{"zero", "p", "a", Timing{}},
	} {
		_, err := NewLeases(rdb, tc.prefix, tc.node, tc.timing)
		assert.Error(t, err, tc.name)
	}
	ls, err := NewLeases(rdb, "p", "a", testTiming)
	require.NoError(t, err)
	_, err = ls.Grant(context.Background(), "a{b}")
	assert.Error(t, err)
	_, err = NewLeases(nil, "p", "a", testTiming)
	assert.Error(t, err)
	assert.False(t, IsFenced(errors.New("other")))
}
