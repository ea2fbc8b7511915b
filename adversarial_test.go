package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
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
		"message buffer max":  hawechaty.WithMessageBuffer(math.MaxInt),
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
		var nilCtx context.Context // a caller's bug, on purpose
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
		require.NotPanics(t, func() { assert.NoError(t, pool.Stop(nilCtx), "a nil context: no bound") })
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

// A budget of one send a minute and fifty Says whose contexts end at
// different times: each Say returns once, those that got no budget say
// rate limited (nothing sent), the world got exactly the delivered ones,
// and the state keeps no send.
func TestRateLimitedSaysWhoseContextsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, b := carolAndTwoBots(t)
		pool := startPool(t, []hawechaty.Option{hawechaty.WithRateLimit(1, time.Minute, 1)}, a, b)
		defer pool.Stop(context.Background())
		const n = 50
		results := make(chan error, n)
		for i := range n {
			go func() {
				ctx, cancel := context.WithTimeout(t.Context(), time.Duration(i)*5*time.Second)
				defer cancel()
				_, err := pool.Say(ctx, "carol", fmt.Sprint("m", i))
				results <- err
			}()
		}
		delivered, limited, canceled := 0, 0, 0
		for range n {
			switch err := <-results; {
			case err == nil:
				delivered++
			case errors.Is(err, hawechaty.ErrRateLimited):
				limited++
			case errors.Is(err, context.DeadlineExceeded):
				canceled++ // i = 0: its context had ended before the Say
			default:
				t.Errorf("unexpected %v", err)
			}
		}
		synctest.Wait()
		assert.Equal(t, n, delivered+limited+canceled)
		// Two bots, a burst of one each, one a minute each, over 245 s.
		assert.InDelta(t, 2+2*4, delivered, 2, "delivered")
		toCarol := 0
		for _, d := range world.Delivered() {
			if d.To == "carol" {
				toCarol++
			}
		}
		assert.Equal(t, delivered, toCarol, "the world got other than the delivered")
		assert.Zero(t, pool.State().Sends.Len(), "sends left in the state")
		assert.Zero(t, pool.State().Queue.Len(), "sends left in the queue")
		select {
		case err := <-results:
			t.Fatalf("a Say returned twice: %v", err)
		default:
		}
	})
}

// Events: a cancelled context gives a closed channel; many readers each
// get every event; after Stop, Events, Say and Send say the pool stopped.
func TestEventsReadersAndAfterStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := carolAndTwoBots(t)
		pool := startPool(t, nil, a, b)
		done, cancel := context.WithCancel(t.Context())
		cancel()
		_, open := <-pool.Events(done)
		assert.False(t, open, "a channel for an ended context")

		const readers = 200
		counts := make(chan int, readers)
		ctx, stopReading := context.WithCancel(t.Context())
		for range readers {
			ch := pool.Events(ctx)
			go func() {
				n := 0
				for range ch {
					n++
				}
				counts <- n
			}()
		}
		a.LogOut()
		synctest.Wait()
		stopReading()
		for range readers {
			assert.Equal(t, 2, <-counts, "logout and failed") // no pool down: bot-b is up
		}

		pool.Stop(context.Background())
		_, open = <-pool.Events(t.Context())
		assert.False(t, open, "a channel after Stop")
		_, err := pool.Say(t.Context(), "carol", "late")
		assert.ErrorIs(t, err, hawechaty.ErrStopped)
		_, err = pool.Send(t.Context(), "carol", puppet.ContactMedia("bob"))
		assert.ErrorIs(t, err, hawechaty.ErrStopped)
	})
}

// Media a hostile caller makes: zero, a file with no name, an empty file,
// a nil link. Each is refused as bad media before anything is sent.
func TestSendBadMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, _ := carolAndTwoBots(t)
		pool := startPool(t, nil, a)
		defer pool.Stop(context.Background())
		for name, m := range map[string]puppet.Media{
			"zero":          {},
			"image nil":     {Kind: puppet.MediaImage},
			"no name":       {Kind: puppet.MediaFile, File: &puppet.FileBox{Data: []byte("x")}},
			"empty file":    puppet.FileMedia(puppet.FileFromBytes("empty.txt", nil)),
			"link nil":      {Kind: puppet.MediaURL},
			"link no URL":   puppet.LinkMedia(puppet.URLLink{Title: "t"}),
			"contact empty": puppet.ContactMedia(""),
			"text kind":     {Kind: puppet.MediaText},
		} {
			require.NotPanics(t, func() {
				_, err := pool.Send(t.Context(), "carol", m)
				assert.ErrorIs(t, err, puppet.ErrBadMedia, name)
			})
		}
		synctest.Wait()
		assert.Empty(t, world.DeliveredMedia())
		assert.Zero(t, pool.State().Sends.Len())
	})
}

// EventOf on actions a hostile or careless caller builds: no panic, no
// event.
func TestEventOfOddActions(t *testing.T) {
	for name, a := range map[string]actions.Action{
		"zero":             {},
		"login no payload": {Type: actions.Login.Type()},
		"login wrong type": {Type: actions.Login.Type(), Payload: 42},
		"scan of nobody":   actions.Scan.New(actions.ScanPayload{Bot: "ghost", Status: actions.ScanWaiting}),
		"reset nil":        {Type: actions.ResetDone.Type(), Payload: nil},
	} {
		require.NotPanics(t, func() {
			ev, ok := hawechaty.EventOf(a, reducers.Pool{})
			assert.False(t, ok, "%s: %v", name, ev)
		}, name)
	}
}

// Send keeps its own copy of the media's file and link: a caller that
// reuses its FileBox for the next file while the send is in flight
// changes neither the pool's state nor what is sent.
func TestSendKeepsItsOwnCopyOfTheMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, _ := carolAndTwoBots(t)
		pool := startPool(t, nil, a)
		defer pool.Stop(context.Background())
		a.SetLatency(10 * time.Second)
		fb := puppet.FileFromBytes("first.png", []byte("png"))
		link := puppet.URLLink{URL: "https://first.example/"}
		done := make(chan error, 2)
		go func() {
			_, err := pool.Send(t.Context(), "carol", puppet.Media{Kind: puppet.MediaImage, File: &fb})
			done <- err
		}()
		go func() {
			_, err := pool.Send(t.Context(), "carol", puppet.Media{Kind: puppet.MediaURL, URL: &link})
			done <- err
		}()
		synctest.Wait()
		fb.Name, link.URL = "second.png", "https://second.example/"
		for _, sd := range pool.State().Sends.All() {
			switch sd.Media.Kind {
			case puppet.MediaImage:
				assert.Equal(t, "first.png", sd.Media.File.Name, "the state changed under the pool")
			case puppet.MediaURL:
				assert.Equal(t, "https://first.example/", sd.Media.URL.URL, "the state changed under the pool")
			}
		}
		require.NoError(t, <-done)
		require.NoError(t, <-done)
		var sent []string
		for _, d := range world.DeliveredMedia() {
			if d.Media.File != nil {
				sent = append(sent, d.Media.File.Name)
			} else {
				sent = append(sent, d.Media.URL.URL)
			}
		}
		assert.ElementsMatch(t, []string{"first.png", "https://first.example/"}, sent)
	})
}

// Events called while the pool stops: every channel closes, none leaks.
func TestEventsDuringStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := carolAndTwoBots(t)
		pool := startPool(t, nil, a, b)
		const readers = 50
		closed := make(chan struct{}, readers)
		for range readers {
			go func() {
				for range pool.Events(t.Context()) {
				}
				closed <- struct{}{}
			}()
		}
		go a.LogOut()
		require.NoError(t, pool.Stop(context.Background()))
		for range readers {
			<-closed
		}
	})
}
