package cluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// BenchmarkRenew measures what one process's renewals cost per retry
// period for a pool of n bots: one Renew per lease (the baseline) against
// RenewAll's one pipelined round trip, on miniredis, whose Lua (gopher-lua,
// a VM per script call) dominates here; BenchmarkRenewRealRedis
// (integration) is the same against redis-server. It reports round trips
// and Redis commands per lease.
func BenchmarkRenew(b *testing.B) {
	benchRenew(b, miniredis.RunT(b).Addr())
}

func benchRenew(b *testing.B, addr string) {
	for _, n := range []int{10, 1000} {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		b.Cleanup(func() { _ = rdb.Close() })
		prefix := fmt.Sprintf("bench%d", n)
		ls, err := NewLeases(rdb, prefix, "n1", DefaultTiming)
		require.NoError(b, err)
		ctx := context.Background()
		leases := make([]Lease, n)
		for i := range leases {
			bot := fmt.Sprintf("bot-%d", i)
			require.NoError(b, rdb.Set(ctx, Keys{Prefix: prefix}.Fence(bot), "1", 0).Err()) // past the quiet period
			leases[i], err = ls.Grant(ctx, bot)
			require.NoError(b, err)
		}
		var cmds cmdCounter
		rdb.AddHook(&cmds)
		b.Run(fmt.Sprintf("one-by-one/%d", n), func(b *testing.B) {
			cmds.n.Store(0)
			b.ReportAllocs()
			for b.Loop() {
				for i := range leases {
					if err := ls.Renew(ctx, &leases[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(cmds.n.Load())/float64(b.N*n), "cmds/lease")
			b.ReportMetric(1, "roundtrips/lease")
		})
		b.Run(fmt.Sprintf("pipelined/%d", n), func(b *testing.B) {
			cmds.n.Store(0)
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range ls.RenewAll(ctx, leases) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(cmds.n.Load())/float64(b.N*n), "cmds/lease")
			b.ReportMetric(1/float64(n), "roundtrips/lease")
		})
	}
}
