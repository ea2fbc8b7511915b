//go:build integration

package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/cluster/redistest"
)

func TestServerRestartLosesTheData(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, rdb.Set(ctx, "k", "v", 0).Err())

	srv.Restart()
	// The pool's old connection broke with the restart; a new one answers.
	require.Eventually(t, func() bool { return rdb.Ping(ctx).Err() == nil }, 10*time.Second, 10*time.Millisecond)
	_, err := rdb.Get(ctx, "k").Result()
	assert.ErrorIs(t, err, redis.Nil, "a restart without persistence starts empty")
}

func TestProxyCutsOneClientOff(t *testing.T) {
	srv := redistest.Start(t)
	px := redistest.NewProxy(t, srv.Addr)
	direct := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer direct.Close()
	behind := redis.NewClient(&redis.Options{Addr: px.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer behind.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	require.NoError(t, behind.Set(ctx, "k", "1", 0).Err())
	px.Cut()
	assert.Error(t, behind.Get(ctx, "k").Err(), "cut off")
	assert.Error(t, behind.Get(ctx, "k").Err(), "new connections are refused too")
	v, err := direct.Get(ctx, "k").Result()
	require.NoError(t, err, "the others still reach the server")
	assert.Equal(t, "1", v)

	px.Heal()
	require.Eventually(t, func() bool { return behind.Ping(ctx).Err() == nil }, 10*time.Second, 10*time.Millisecond)
}

func TestClusterSpreadsTheSlots(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	require.Len(t, rc.Addrs, 3)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: rc.Addrs})
	defer rdb.Close()
	cc, ok := rdb.(*redis.ClusterClient)
	require.True(t, ok, "%T", rdb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	shards, err := cc.ClusterShards(ctx).Result()
	require.NoError(t, err)
	covered, owners := int64(0), 0
	for _, sh := range shards {
		for _, r := range sh.Slots {
			covered += r.End - r.Start + 1
		}
		if len(sh.Slots) > 0 {
			owners++
		}
	}
	assert.EqualValues(t, 16384, covered, "every slot is served")
	assert.Equal(t, 3, owners, "by the three masters")
	for i := range 20 { // keys in many slots, each on its master
		k := "k" + string(rune('a'+i))
		require.NoError(t, cc.Set(ctx, k, i, 0).Err())
		v, err := cc.Get(ctx, k).Int()
		require.NoError(t, err)
		assert.Equal(t, i, v)
	}
}

func TestReplicaFollowsItsPrimary(t *testing.T) {
	srv := redistest.Start(t)
	rep := redistest.StartReplica(t, srv)
	primary := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer primary.Close()
	replica := redis.NewClient(&redis.Options{Addr: rep.Addr, MaxRetries: -1})
	defer replica.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pipe := primary.Pipeline() // WAIT counts the writes of its own connection
	pipe.Set(ctx, "k", "v", 0)
	acks := pipe.Do(ctx, "wait", 1, 5000)
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, acks.Val(), "the replica acknowledged")
	v, err := replica.Get(ctx, "k").Result()
	require.NoError(t, err, "so it has the write")
	assert.Equal(t, "v", v)

	rep.Kill()
	pipe = primary.Pipeline()
	pipe.Set(ctx, "k", "w", 0)
	acks = pipe.Do(ctx, "wait", 1, 100)
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 0, acks.Val(), "no replica left to acknowledge")

	rep.Restart() // empty, then synced again
	require.Eventually(t, func() bool { return replica.Get(ctx, "k").Val() == "w" }, 10*time.Second, 10*time.Millisecond)
}
