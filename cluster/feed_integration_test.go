//go:build integration

package cluster

import (
	"testing"

	"github.com/hawechaty/hawechaty/cluster/redistest"
	"github.com/redis/go-redis/v9"
)

// The feed, forwarded sends and inbound claims against a real
// redis-server: its scripts, streams, consumer groups and timing.

func realRedis(t testing.TB) (string, redis.UniversalClient) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	return srv.Addr, rdb
}

func TestFeedOnRealRedis(t *testing.T) {
	t.Run("mirrors", func(t *testing.T) { _, rdb := realRedis(t); testFeedMirrorsTheOwnersFacts(t, rdb) })
	t.Run("fenced", func(t *testing.T) { _, rdb := realRedis(t); testFeedRefusesAFormerOwner(t, rdb) })
	t.Run("join races publishes", func(t *testing.T) { _, rdb := realRedis(t); testJoinRacesPublishes(t, rdb) })
}

func TestForwardOnRealRedis(t *testing.T) {
	t.Run("delivered", func(t *testing.T) { addr, _ := realRedis(t); testForwardedSendIsDeliveredByItsOwner(t, addr) })
	t.Run("never picked up", func(t *testing.T) { addr, _ := realRedis(t); testForwardNeverPickedUpIsRetriedElsewhere(t, addr) })
	t.Run("owner dies", func(t *testing.T) { addr, _ := realRedis(t); testOwnerDiesBetweenPickUpAndResult(t, addr) })
	t.Run("owner refuses", func(t *testing.T) { addr, _ := realRedis(t); testOwnerRefusesABotItDoesNotDrive(t, addr) })
}

func TestInboundOnRealRedis(t *testing.T) {
	_, rdb := realRedis(t)
	testInboundOnceClusterWide(t, rdb)
}

// BenchmarkSayForwardedRealRedis: a Say forwarded to another process
// over a real redis-server, against a local one.
func BenchmarkSayForwardedRealRedis(b *testing.B) {
	addr, _ := realRedis(b)
	benchSays(b, addr)
}

// BenchmarkFollow1000BotsRealRedis: following a 1,000-bot pool's feed
// over a real redis-server, per event.
func BenchmarkFollow1000BotsRealRedis(b *testing.B) {
	_, rdb := realRedis(b)
	benchFollow(b, rdb)
}
