package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/puppet"
)

// replicas stands in for Redis's replicas on a client of miniredis, whose
// WAIT always answers 0 (a primary without replicas, as a real one
// answers): it rewrites WAIT's answer to acks, after delay. Everything
// else reaches miniredis as it is. It records the commands of each
// pipeline that held a WAIT, to check that the WAIT follows the write on
// its connection.
type replicas struct {
	acks  atomic.Int64
	delay atomic.Int64 // ns

	mu    sync.Mutex
	waits []string // per pipeline with a WAIT: its command names, in order
	bare  int      // WAITs sent outside a pipeline
}

func (r *replicas) DialHook(next redis.DialHook) redis.DialHook {
	return next
}

func (r *replicas) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "wait" {
			r.mu.Lock()
			r.bare++
			r.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (r *replicas) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		names, waited := "", false
		for _, c := range cmds {
			names += c.Name() + " "
			if c.Name() != "wait" || c.Err() != nil {
				continue
			}
			waited = true
			if d := time.Duration(r.delay.Load()); d > 0 {
				time.Sleep(d) // the bubble's clock
			}
			if cmd, ok := c.(*redis.Cmd); ok {
				cmd.SetVal(r.acks.Load())
			}
		}
		if waited {
			r.mu.Lock()
			r.waits = append(r.waits, names)
			r.mu.Unlock()
		}
		return err
	}
}

func (r *replicas) pipelines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.waits...)
}

// assertWaitFollows checks that every WAIT followed one script, or a
// pipeline of renewals, on its connection.
func assertWaitFollows(t *testing.T, reps *replicas) {
	t.Helper()
	assert.NotEmpty(t, reps.pipelines())
	for _, p := range reps.pipelines() {
		assert.Regexp(t, `^((evalsha|eval) )+wait $`, p)
	}
	assert.Zero(t, reps.bare, "no WAIT on a connection of its own")
}

var testAck = ReplicaAck{Replicas: 1, Timeout: 100 * time.Millisecond}

func TestReplicaAckValidate(t *testing.T) {
	for _, a := range []ReplicaAck{{Replicas: -1}, {Replicas: 1}, {Replicas: 1, Timeout: time.Microsecond}, {Replicas: 1, Timeout: testTiming.Retry}} {
		assert.Error(t, a.Validate(testTiming), "%+v", a)
	}
	assert.NoError(t, ReplicaAck{}.Validate(testTiming), "off")
	assert.NoError(t, testAck.Validate(testTiming))

	for _, o := range []Option{WithReplicaAck(-1, time.Second), WithReplicaAck(1, 0), WithReplicaAck(2, testTiming.Retry)} {
		_, err := New("redis://127.0.0.1:1", WithTiming(testTiming), o)
		assert.Error(t, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 50 * time.Millisecond})
	defer rdb.Close()
	_, err := New("", WithClient(rdb), WithReplicaAck(1, 100*time.Millisecond))
	assert.ErrorContains(t, err, "read timeout", "a WAIT the client would cut short")
	c, err := New("redis://127.0.0.1:1", WithReplicaAck(0, 0))
	require.NoError(t, err, "0 is off")
	assert.Equal(t, ReplicaAck{}, c.Leases().ReplicaAck())
	c.closeClient() // never started
	c, err = New("redis://127.0.0.1:1", WithReplicaAck(1, time.Second))
	require.NoError(t, err)
	assert.Equal(t, ReplicaAck{Replicas: 1, Timeout: time.Second}, c.Leases().ReplicaAck())
	c.closeClient()
}

// ackRig is a lease test with a fake set of replicas in front of
// miniredis: a's leases ask for one acknowledgement.
func ackTest(t *testing.T, f func(t *testing.T, r *leaseRig, reps *replicas, a *Leases)) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		reps := &replicas{}
		rdb := redis.NewClient(&redis.Options{Addr: r.m.Addr(), MaxRetries: -1, PoolSize: 4})
		t.Cleanup(func() { _ = rdb.Close() })
		rdb.AddHook(reps)
		plain, err := NewLeases(rdb, "t", "a", testTiming)
		require.NoError(t, err)
		a, err := plain.WithReplicaAck(testAck)
		require.NoError(t, err)
		f(t, r, reps, a)
	})
}

func TestGrantNotAcknowledgedIsGivenUp(t *testing.T) {
	ackTest(t, func(t *testing.T, r *leaseRig, reps *replicas, a *Leases) {
		ctx := context.Background()
		settle(t, r.mini, a, "bot2")
		fence0, err := r.rdb.Get(ctx, Keys{Prefix: "t"}.Fence("bot2")).Uint64()
		require.NoError(t, err)

		_, err = a.Grant(ctx, "bot2") // no replica acknowledges
		require.ErrorIs(t, err, ErrNotReplicated)
		assert.Contains(t, err.Error(), "0 of 1 replicas")
		assert.Equal(t, AckStats{Grants: 1}, a.Unacked())
		assert.False(t, r.m.Exists(Keys{Prefix: "t"}.Lease("bot2")), "given back at once, not left to run out")
		fence, err := r.rdb.Get(ctx, Keys{Prefix: "t"}.Fence("bot2")).Uint64()
		require.NoError(t, err)
		assert.Equal(t, fence0+1, fence, "its token is spent: tokens never repeat")

		reps.acks.Store(1)
		l, err := a.Grant(ctx, "bot2")
		require.NoError(t, err, "acknowledged")
		assert.Equal(t, fence0+2, l.Token)
		require.NoError(t, a.Release(ctx, l, ""))

		// A script the server forgot is sent in full, WAIT still after it.
		require.NoError(t, r.rdb.ScriptFlush(ctx).Err())
		_, err = a.Grant(ctx, "bot2")
		require.NoError(t, err)
		p := reps.pipelines()
		assert.Equal(t, []string{"evalsha wait ", "eval wait "}, p[len(p)-2:])
		assertWaitFollows(t, reps)
	})
}

func TestRenewalNotAcknowledgedKeepsTheEnd(t *testing.T) {
	ackTest(t, func(t *testing.T, r *leaseRig, reps *replicas, a *Leases) {
		ctx := context.Background()
		settle(t, r.mini, a, "bot2")
		reps.acks.Store(1)
		l, err := a.Grant(ctx, "bot2")
		require.NoError(t, err)
		until := l.Until

		r.advance(time.Second)
		reps.acks.Store(0)
		err = a.Renew(ctx, &l)
		require.ErrorIs(t, err, ErrNotReplicated)
		assert.Equal(t, until, l.Until, "the end moves only on an acknowledged renewal")
		ls := []Lease{l}
		errs := a.RenewAll(ctx, ls)
		require.ErrorIs(t, errs[0], ErrNotReplicated)
		assert.Equal(t, until, ls[0].Until)
		assert.Equal(t, AckStats{Renewals: 2}, a.Unacked())

		reps.acks.Store(2) // more than asked is fine
		errs = a.RenewAll(ctx, ls)
		require.NoError(t, errs[0])
		assert.Equal(t, until.Add(time.Second), ls[0].Until)

		// Lost wins over the acknowledgement: the primary's word.
		require.NoError(t, r.rdb.Del(ctx, Keys{Prefix: "t"}.Lease("bot2")).Err())
		assert.ErrorIs(t, a.Renew(ctx, &l), ErrLost)
		assertWaitFollows(t, reps)
	})
}

// A grant whose answer was lost, found held by this node: under acks,
// the renewal that adopts it must be acknowledged too, else it is given
// up.
func TestAdoptedGrantNeedsTheAckToo(t *testing.T) {
	ackTest(t, func(t *testing.T, r *leaseRig, _ *replicas, a *Leases) {
		ctx := context.Background()
		require.NoError(t, r.a.Release(ctx, r.la, ""))
		_, err := r.a.Grant(ctx, "bot") // a's plain grant: held by "a", as if its answer was lost
		require.NoError(t, err)
		_, err = a.Grant(ctx, "bot")
		require.ErrorIs(t, err, ErrNotReplicated)
		assert.False(t, r.m.Exists(Keys{Prefix: "t"}.Lease("bot")), "given up")
	})
}

func TestNoWaitWhenOff(t *testing.T) {
	leaseTest(t, func(t *testing.T, r *leaseRig) {
		reps := &replicas{}
		r.rdb.AddHook(reps)
		ctx := context.Background()
		require.NoError(t, r.a.Renew(ctx, &r.la))
		require.NoError(t, r.a.RenewAll(ctx, []Lease{r.la})[0])
		require.NoError(t, r.a.Release(ctx, r.la, ""))
		_, err := r.b.Grant(ctx, "bot")
		require.NoError(t, err)
		assert.Empty(t, reps.pipelines())
		assert.Zero(t, reps.bare, "n = 0: no WAIT, today's cost")
		assert.Equal(t, AckStats{}, r.a.Unacked())
	})
}

// startAckNode is startNode with a fake set of replicas in front of
// miniredis and WithReplicaAck(1, 100 ms).
func startAckNode(t *testing.T, mi *mini, w *world, name string, bots []string, reps *replicas) *node {
	cut := &cutDialer{}
	rdb := redis.NewClient(&redis.Options{Addr: mi.m.Addr(), Dialer: cut.dial, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	rdb.AddHook(reps)
	c, err := New("", WithClient(rdb), WithNode(name), WithTiming(ownerTiming), WithPrefix("t"), WithReplicaAck(1, 100*time.Millisecond))
	require.NoError(t, err)
	for _, b := range bots {
		require.NoError(t, c.Register(b, &fakePuppet{w: w, node: name, bot: b, events: make(chan puppet.Event)}))
	}
	d := &fakeDriver{ps: map[string]puppet.Puppet{}}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, c.Start(ctx, d))
	t.Cleanup(func() {
		_ = c.Stop(context.Background())
		cancel()
		_ = rdb.Close()
	})
	return &node{c: c, d: d, cut: cut, cancel: cancel}
}

// Without acknowledgements a node drives nothing; with them it drives;
// when they stop it drives on until its renew deadline, through slow
// acknowledgements, and stops then.
func TestClusterDrivesOnlyAcknowledgedGrants(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		reps := &replicas{}
		a := startAckNode(t, mi, w, "a", []string{"bot"}, reps)
		mi.run(ownerTiming.Lease + 3*ownerTiming.Retry)
		assert.Empty(t, a.c.Held(), "no replica: no grant counts")
		assert.Empty(t, w.drivers("bot"))
		assert.GreaterOrEqual(t, a.c.Leases().Unacked().Grants, int64(2), "one refused grant per try")
		assert.False(t, mi.m.Exists(Keys{Prefix: "t"}.Lease("bot")), "each given back")

		reps.acks.Store(1)
		mi.run(2 * ownerTiming.Retry)
		require.Equal(t, []string{"a"}, w.drivers("bot"), "acknowledged: driven")

		// Slow acknowledgements (longer than WAIT's timeout would allow,
		// still within the retry) and missing ones only hold the end.
		reps.delay.Store(int64(150 * time.Millisecond))
		mi.run(3 * ownerTiming.Retry)
		assert.Equal(t, []string{"a"}, w.drivers("bot"))
		reps.delay.Store(0)
		mi.run(ownerTiming.Retry)
		reps.acks.Store(0)
		lost := time.Now()
		renewed := a.c.Held()[0].Until
		mi.run(ownerTiming.RenewDeadline / 2)
		assert.Equal(t, []string{"a"}, w.drivers("bot"), "a transient lack of acks does not stop the bot")
		assert.Equal(t, renewed, a.c.Held()[0].Until, "nor moves its end")
		mi.run(ownerTiming.RenewDeadline)
		assert.Empty(t, w.drivers("bot"), "stopped at the renew deadline")
		assert.Empty(t, a.c.Held())
		assert.LessOrEqual(t, renewed.Sub(lost), ownerTiming.RenewDeadline)
		assert.Positive(t, a.c.Leases().Unacked().Renewals)
		assert.Equal(t, 1, w.maxDrivers())
	})
}
