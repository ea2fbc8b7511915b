package hawechaty_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile option values give New a clear error, never a panic, and never
// a pool that silently does something else.
func TestNewRefusesHostileOptions(t *testing.T) {
	for name, opt := range map[string]hawechaty.Option{
		"affinity size -1":    hawechaty.WithAffinitySize(-1),
		"rate limit -1":       hawechaty.WithRateLimit(-1, time.Minute, 1),
		"rate limit per 0":    hawechaty.WithRateLimit(1, 0, 1),
		"rate limit per -1":   hawechaty.WithRateLimit(1, -time.Second, 1),
		"rate limit burst 0":  hawechaty.WithRateLimit(1, time.Minute, 0),
		"rate limit per max":  hawechaty.WithRateLimit(1, math.MaxInt64, 1),
		"dedupe size max":     hawechaty.WithDedupe(math.MaxInt, time.Minute),
		"event buffer 0":      hawechaty.WithEventBuffer(0),
		"event buffer -1":     hawechaty.WithEventBuffer(-1),
		"message buffer -1":   hawechaty.WithMessageBuffer(-1),
		"backoff NaN":         hawechaty.WithBackoff(epics.Backoff{Initial: 1, Factor: math.NaN(), Max: 2}),
		"send timeout -1":     hawechaty.WithSendTimeout(-1),
		"eject after -1":      hawechaty.WithEjectAfter(-1),
		"scan timeout < fail": hawechaty.WithScanTimeout(time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = hawechaty.New(opt) })
			assert.Error(t, err)
		})
	}
}

// A nil context is a caller's bug: Say, Send, Reply and the media fetches
// say so instead of panicking; Events takes it for a context that never
// ends. A Message not from a pool gives an error, not a panic.
func TestNilContextAndStrayMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, _ := carolAndTwoBots(t)
		pool := startPool(t, nil, a)
		//nolint:staticcheck // a nil context on purpose
		var nilCtx context.Context
		require.NotPanics(t, func() {
			_, err := pool.Say(nilCtx, "carol", "hi")
			assert.ErrorContains(t, err, "nil context")
		})
		require.NotPanics(t, func() {
			_, err := pool.Send(nilCtx, "carol", puppet.ContactMedia("bob"))
			assert.ErrorContains(t, err, "nil context")
		})
		require.NotPanics(t, func() {
			_, err := hawechaty.Message{ID: "m1", From: "carol"}.Reply(t.Context(), "hi")
			assert.ErrorContains(t, err, "no pool")
		})
		_, err := world.PostMedia("carol", "bot-a", puppet.ContactMedia("bob"))
		require.NoError(t, err)
		synctest.Wait()
		require.Len(t, pool.Messages(), 1)
		m := <-pool.Messages()
		require.NotPanics(t, func() {
			_, err := m.ContactCard(nilCtx)
			assert.ErrorContains(t, err, "nil context")
			_, err = m.Reply(nilCtx, "hi")
			assert.ErrorContains(t, err, "nil context")
		})

		var events <-chan hawechaty.Event
		require.NotPanics(t, func() { events = pool.Events(nilCtx) })
		a.LogOut()
		assert.Contains(t, drain(time.Now(), events), "0s logout bot-a (kicked (injected))", "no event for a nil context")
		r, err := pool.Say(t.Context(), "carol", "still works")
		assert.ErrorIs(t, err, hawechaty.ErrNoBot, "%v", r)
		pool.Stop(context.Background())
		for range events { // closed when the pool stops
		}
	})
}

// WithEventBuffer(math.MaxInt) is a reader that never loses an event: an
// Events channel costs memory only for the events that wait (before, each
// channel made a ring of the full size, and this one panicked).
func TestHugeEventBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := carolAndTwoBots(t)
		pool, err := hawechaty.New(hawechaty.WithSeed(1), hawechaty.WithEventBuffer(math.MaxInt))
		require.NoError(t, err)
		ctx, stopReading := context.WithCancel(t.Context())
		var events <-chan hawechaty.Event
		require.NotPanics(t, func() { events = pool.Events(ctx) })
		for _, p := range []puppet.Puppet{a, b} {
			require.NoError(t, pool.Add(t.Context(), p))
		}
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()
		const rounds = 300 // more than DefaultEventBuffer events wait
		for range rounds {
			require.NoError(t, a.Stop(t.Context()))
			synctest.Wait()
			require.NoError(t, a.Start(t.Context()))
			synctest.Wait()
		}
		got := drain(time.Time{}, events)
		logouts := 0
		for _, e := range got {
			assert.NotContains(t, e, "dropped")
			if strings.Contains(e, "logout bot-a") {
				logouts++
			}
		}
		stopReading()
		for range events {
		}
		assert.GreaterOrEqual(t, logouts, rounds)
		assert.Zero(t, pool.EventsDropped())
	})
}
