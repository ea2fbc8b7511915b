package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Semaphore caps how many holders cluster-wide may be inside a section
// at once (logins and resets, as the QQ bot SDK's max concurrency does).
// Each slot is a lease: a member of the sorted set {P}:slots:NAME scored by
// its expiry on the Redis server's clock, so a slot of a process that died
// inside comes back after the lease. A section that outlives the lease
// loses its slot (it is not renewed): the cap holds for sections shorter
// than the lease.
type Semaphore struct {
	rdb   redis.UniversalClient
	key   string
	node  string
	limit int
	lease time.Duration
	poll  time.Duration
}

// acquireLua: KEYS[1] the set; ARGV[1] member, ARGV[2] limit, ARGV[3]
// lease ms. Replies 1 when the slot was taken.
const acquireLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

var acquireScript = redis.NewScript(acquireLua)

// NewSemaphore returns the semaphore name under prefix with limit slots,
// each held at most lease; waiters try again every poll.
func NewSemaphore(rdb redis.UniversalClient, prefix, name, node string, limit int, lease, poll time.Duration) (*Semaphore, error) {
	keys := Keys{Prefix: prefix}
	switch err := keys.Validate(); {
	case rdb == nil:
		return nil, errors.New("cluster: nil Redis client")
	case err != nil:
		return nil, err
	case limit < 1:
		return nil, fmt.Errorf("cluster: semaphore %q: limit %d, want at least 1", name, limit)
	case lease < time.Millisecond || poll <= 0:
		return nil, fmt.Errorf("cluster: semaphore %q: lease %v and poll %v must be positive", name, lease, poll)
	}
	return &Semaphore{rdb: rdb, key: keys.Slots(name), node: node, limit: limit, lease: lease, poll: poll}, nil
}

// TryAcquire takes a slot if one is free; release gives it back.
func (s *Semaphore) TryAcquire(ctx context.Context) (release func(), ok bool, err error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	member := s.node + "|" + hex.EncodeToString(b)
	n, err := acquireScript.Run(ctx, s.rdb, []string{s.key}, member, s.limit, s.lease.Milliseconds()).Int()
	if err != nil {
		return nil, false, fmt.Errorf("cluster: semaphore %s: %w", s.key, err)
	}
	if n != 1 {
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.poll+time.Second)
		defer cancel()
		_ = s.rdb.ZRem(ctx, s.key, member).Err() // else it expires with its lease
	}, true, nil
}

// Acquire waits, bounded by ctx, for a slot. Redis errors are retried
// until ctx ends (a login waits for Redis as for a slot).
func (s *Semaphore) Acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(0)
	defer t.Stop()
	var last error
	for {
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), last)
		case <-t.C:
		}
		release, ok, err := s.TryAcquire(ctx)
		if ok {
			return release, nil
		}
		last = err
		t.Reset(s.poll)
	}
}
