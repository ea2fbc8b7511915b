//go:build integration

package cluster

import "testing"

// TestInboundContentOnceRealRedis: copies of one message under different
// IDs, in two processes, on a real redis-server (the claim script as
// Redis runs it).
func TestInboundContentOnceRealRedis(t *testing.T) {
	_, rdb := realRedis(t)
	testInboundContentOnce(t, rdb)
}

// BenchmarkInboundClaimRealRedis: a claim of the ID alone against the ID
// and the content key, over a real redis-server.
func BenchmarkInboundClaimRealRedis(b *testing.B) {
	_, rdb := realRedis(b)
	benchInboundClaim(b, rdb)
}
