package cluster

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every key of a pool starts with the hash tag {P}: Redis Cluster hashes
// only that, so the pool is one slot, whatever the names after it hold.
func TestKeysShareThePoolsHashTag(t *testing.T) {
	k := Keys{Prefix: "hawechaty"}
	all := append(k.bot("b{x}"), k.Epoch(), k.Node("n"), k.Slots("logins"), k.Events(), k.Snapshot(),
		k.Sends("n"), k.Results("n"), k.Seen("{id}"))
	assert.Len(t, all, 12)
	seen := map[string]bool{}
	for _, key := range all {
		assert.True(t, strings.HasPrefix(key, "{hawechaty}:"), key)
		assert.False(t, seen[key], "two builders make %s", key)
		seen[key] = true
	}
	assert.Equal(t, "{hawechaty}:lease:b1", k.Lease("b1"))
	assert.NotEqual(t, Keys{Prefix: "other"}.Events(), k.Events(), "pools under different prefixes are different keys")
}

func TestKeysRefuseAPrefixThatIsNoHashTag(t *testing.T) {
	require.NoError(t, Keys{Prefix: "p"}.Validate())
	for _, p := range []string{"", "a{b", "a}b"} {
		assert.ErrorContains(t, Keys{Prefix: p}.Validate(), "key prefix", "%q", p)
	}
	// The constructors do not connect.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	_, err := NewFeed(rdb, "n", FeedOptions{Prefix: "a{b"})
	assert.ErrorContains(t, err, "key prefix")
	_, err = NewForwarder(rdb, "n", ForwardOptions{Prefix: "a}b"})
	assert.ErrorContains(t, err, "key prefix")
	_, err = NewInbound(rdb, "n", InboundOptions{Prefix: "{"})
	assert.ErrorContains(t, err, "key prefix")
	_, err = NewLeases(rdb, "", "n", DefaultTiming)
	assert.ErrorContains(t, err, "key prefix")
	_, err = NewSemaphore(rdb, "x{", "logins", "n", 1, DefaultTiming.Lease, DefaultTiming.Retry)
	assert.ErrorContains(t, err, "key prefix")
}
