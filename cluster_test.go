package hawechaty_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/cluster"
)

var clusterTiming = cluster.Timing{Lease: 900 * time.Millisecond, RenewDeadline: 600 * time.Millisecond, Retry: 50 * time.Millisecond}

// newReplica is one process's pool of the cluster on m, able to drive the
// named bots.
func newReplica(t *testing.T, m *miniredis.Miniredis, node string, bots ...string) (*hawechaty.Pool, map[string]*fakePuppet) {
	t.Helper()
	pool, err := hawechaty.New(hawechaty.WithCluster("redis://"+m.Addr()+"/0",
		cluster.WithNode(node), cluster.WithTiming(clusterTiming), cluster.WithPrefix("t")))
	require.NoError(t, err)
	fakes := map[string]*fakePuppet{}
	for _, b := range bots {
		fakes[b] = newFake(b)
		require.NoError(t, pool.Add(context.Background(), fakes[b]))
	}
	return pool, fakes
}

// A pool WithCluster drives the bots whose leases it holds; every
// replica's state says where each bot runs; a clean stop hands them to
// the standby, which sends through them.
func TestClusterReplicasShareTheBots(t *testing.T) {
	m := miniredis.RunT(t)
	for _, b := range []string{"x", "y"} {
		m.Set(cluster.Keys{Prefix: "t"}.Fence(b), "1") // past the first use's quiet period (miniredis expires keys only by FastForward)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a, fa := newReplica(t, m, "a", "x", "y")
	require.NoError(t, a.Start(ctx))
	require.Eventually(t, func() bool { return len(a.Cluster().Held()) == 2 && a.Health().Available == 2 }, 10*time.Second, 5*time.Millisecond)
	assert.True(t, fa["x"].Started())
	assert.Equal(t, "a", a.Cluster().Node())
	b, fb := newReplica(t, m, "b", "x", "y")
	require.NoError(t, b.Start(ctx))
	require.Eventually(t, func() bool {
		x, ok := b.State().Bots.Get("x")
		return ok && x.Node == "a"
	}, 10*time.Second, 5*time.Millisecond, "b's state says a drives x (from a's feed)")
	assert.Empty(t, b.Cluster().Held(), "a full standby takes nothing")
	assert.False(t, fb["x"].Started())
	require.Eventually(t, func() bool { return b.Health().Available == 2 }, 10*time.Second, 5*time.Millisecond,
		"b routes over a's bots (their logins came through a's feed)")
	fwd, err := b.Say(ctx, "alice", "via a")
	require.NoError(t, err, "a Say on b goes through a bot a drives")
	assert.Equal(t, "a", fwd.Node, "the receipt names the process that delivered")
	assert.Equal(t, []string{"alice:via a"}, fa[fwd.Bot].Said())

	require.NoError(t, a.Stop(ctx))
	assert.False(t, fa["x"].Started(), "a stopped its puppets")
	assert.True(t, fa["x"].Closed())
	require.Eventually(t, func() bool { return len(b.Cluster().Held()) == 2 && b.Health().Available == 2 }, 10*time.Second, 5*time.Millisecond,
		"b takes the released bots at its next try")
	r, err := b.Say(ctx, "alice", "hello")
	require.NoError(t, err)
	assert.Contains(t, []string{"x", "y"}, r.Bot)
	assert.Equal(t, []string{"alice:hello"}, fb[r.Bot].Said())
	x, _ := b.State().Bots.Get("x")
	assert.Equal(t, "b", x.Node)
	require.NoError(t, b.Stop(ctx))
	assert.True(t, fb["x"].Closed())
}

func TestClusterBadURL(t *testing.T) {
	_, err := hawechaty.New(hawechaty.WithCluster("http://nowhere"))
	assert.Error(t, err)
	_, err = hawechaty.New(hawechaty.WithCluster("redis://127.0.0.1:1", cluster.WithCapacity(-1)))
	assert.Error(t, err)
}

func TestFromEnvJoinsTheClusterOfHA_WECHATY_REDIS(t *testing.T) {
	m := miniredis.RunT(t)
	env := map[string]string{hawechaty.EnvPuppet: "mock", hawechaty.EnvRedis: "redis://" + m.Addr()}
	pool, err := hawechaty.FromEnvironment(context.Background(), func(k string) string { return env[k] })
	require.NoError(t, err)
	require.NotNil(t, pool.Cluster())
	require.NoError(t, pool.Stop(context.Background()))
}
