package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of Remove and Stop against calls under way into the
// puppets (found by a second read of the call tracking).

// A call that only ends when its context ends (a room lookup on a dead
// bot, with a context that never ends) does not hold Remove forever:
// after 30 s Remove cuts it short, then stops and closes the puppet.
func TestRemoveCutsShortACallThatWouldNotEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		pool := startPool(t, nil, b)
		defer pool.Stop(context.Background())
		b.Die()

		found := make(chan error, 1)
		go func() { _, err := pool.Room.FindAll(context.Background(), "x"); found <- err }()
		synctest.Wait()
		start := time.Now()
		err = pool.Remove(context.Background(), "bot-a")
		assert.Equal(t, 30*time.Second, time.Since(start), "waited 30 s for the call")
		assert.ErrorContains(t, err, "calls under way were cut short")
		assert.Error(t, <-found, "the lookup was cut short")
	})
}

// slowStop is a fake whose Stop takes 31 s whatever its context says, and
// which records the bots whose Stop got a context that was already over.
type slowStop struct {
	*fakePuppet
	mu      *sync.Mutex
	expired *[]string
}

func (s slowStop) Stop(ctx context.Context) error {
	s.mu.Lock()
	if ctx.Err() != nil {
		*s.expired = append(*s.expired, s.name)
	}
	s.mu.Unlock()
	time.Sleep(31 * time.Second)
	return s.fakePuppet.Stop(context.Background())
}

// Each bot's Stop gets 30 s of its own: a slow bot does not leave the next
// one an expired context (its logout would be skipped).
func TestStopGivesEachBotItsOwnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var expired []string
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		for _, n := range []string{"a", "b"} {
			require.NoError(t, pool.Add(t.Context(), slowStop{newFake(n), &mu, &expired}))
		}
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		require.NoError(t, pool.Stop(context.Background()))
		assert.Empty(t, expired, "a puppet's Stop was given an expired context")
	})
}

// Remove with a context already done, and nothing under way, still takes
// the bot out of the pool: the name is free at once, and the idle puppet
// is stopped and closed in the background. Remove may say that it did
// not wait (its context had ended), and nothing else.
func TestRemoveWithADoneContextAndNothingUnderWay(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			a := newFake("a")
			pool := startPool(t, nil, a)
			defer pool.Stop(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := pool.Remove(ctx, "a"); err != nil {
				require.ErrorIs(t, err, context.Canceled)
			}
			assert.ErrorIs(t, pool.Remove(context.Background(), "a"), hawechaty.ErrUnknownBot)
			synctest.Wait()
			assert.False(t, a.Started(), "not stopped")
			assert.True(t, a.Closed(), "not closed")
			assert.Zero(t, pool.State().Bots.Len())
			require.NoError(t, pool.Add(t.Context(), newFake("a")), "the name is not free")
		})
	}
}

// A Say under way when the pool stops learns that the message may have
// left (the puppet did send it here), not only that the pool stopped.
func TestSayUnderWayAtStopIsAnUnknownOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := slowSay{fakePuppet: newFake("a"), closed: new(atomic.Int32), late: new(atomic.Int32)}
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), a))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		said := make(chan error, 1)
		go func() { _, err := pool.Say(context.Background(), "alice", "x"); said <- err }()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, pool.Stop(context.Background()))
		err = <-said
		var se *hawechaty.SendError
		require.True(t, errors.As(err, &se), "a SendError: %v", err)
		assert.ErrorIs(t, err, hawechaty.ErrStopped)
		assert.ErrorIs(t, err, puppet.ErrOutcomeUnknown)
		assert.Equal(t, []string{"alice:x"}, a.Said())
	})
}

// Every call into the puppets returns by its context's end when a puppet
// ignores its context: the finders (the other bots' answers are kept),
// Logout, Remove, and Add to a started pool (the bot is in the pool, its
// Start goes on in the background). When the puppet answers at last,
// the pool stops cleanly.
func TestCallsReturnByTheirContextsEndWhenAPuppetIsDeaf(t *testing.T) {
	room := puppet.Room{ID: "room1", Topic: "team", Members: []string{"self-a", "self-b"}}
	for _, tt := range []struct {
		name  string
		deaf  string // the method of a that blocks
		call  func(ctx context.Context, pool *hawechaty.Pool) error
		after func(t *testing.T, pool *hawechaty.Pool, err error)
	}{
		{"Room.FindAll", "Rooms", func(ctx context.Context, pool *hawechaty.Pool) error {
			rooms, err := pool.Room.FindAll(ctx, "team")
			if err == nil && len(rooms) != 1 {
				err = fmt.Errorf("rooms %+v, want b's", rooms)
			}
			return err
		}, func(t *testing.T, _ *hawechaty.Pool, err error) { assert.NoError(t, err, "b answered") }},
		{"Contact.FindAll", "Contacts", func(ctx context.Context, pool *hawechaty.Pool) error {
			cs, err := pool.Contact.FindAll(ctx, "bob")
			if err == nil && (len(cs) != 1 || cs[0].ID != "bob-b") {
				err = fmt.Errorf("contacts %+v, want b's", cs)
			}
			return err
		}, func(t *testing.T, _ *hawechaty.Pool, err error) { assert.NoError(t, err, "b answered") }},
		{"Logout", "Stop", func(ctx context.Context, pool *hawechaty.Pool) error { return pool.Logout(ctx) },
			func(t *testing.T, _ *hawechaty.Pool, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) }},
		{"Remove", "Stop", func(ctx context.Context, pool *hawechaty.Pool) error { return pool.Remove(ctx, "a") },
			func(t *testing.T, pool *hawechaty.Pool, err error) {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.False(t, pool.State().Bots.Has("a"), "a is still in the pool")
			}},
		{"Add", "Start", nil, func(t *testing.T, pool *hawechaty.Pool, err error) {
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.True(t, pool.State().Bots.Has("a"), "a is not in the pool")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := newFake("a", room), newFake("b", room)
				defer a.Release()
				var pool *hawechaty.Pool
				call := tt.call
				if call == nil { // Add a to a started pool
					pool = startPool(t, nil, b)
					call = func(ctx context.Context, pool *hawechaty.Pool) error { return pool.Add(ctx, a) }
				} else {
					pool = startPool(t, nil, a, b)
				}
				a.Deafen(tt.deaf)
				defer func() {
					a.Release() // the puppet answers at last
					assert.NoError(t, pool.Stop(context.Background()))
				}()

				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				start := time.Now()
				res := make(chan error, 1)
				go func() { res <- call(ctx, pool) }()
				var err error
				select {
				case err = <-res:
				case <-time.After(time.Hour):
					require.FailNow(t, "no return an hour after its context's end") // Release lets the call end
				}
				assert.Equal(t, time.Second, time.Since(start), "did not return at its context's end")
				assert.Equal(t, 1, a.Blocked(), "a's call did not block")
				tt.after(t, pool, err)
			})
		})
	}
}

// deafBot is a bot of the mock world whose sends ignore their context: a
// request, once made, goes on to its end (delivered after the bot's
// latency, or hung until the bot is closed), whatever the caller or the
// pool does meanwhile.
type deafBot struct{ *mock.Bot }

func (d deafBot) Say(ctx context.Context, to, text string) error {
	return d.Bot.Say(context.WithoutCancel(ctx), to, text)
}

// sayResult is what one Say returned.
type sayResult struct {
	text string
	r    hawechaty.Receipt
	err  error
}

// TestSayRaceWithStopTellsTheTruth stops a pool under load, at a random
// instant, while its puppets ignore their contexts (slow, or hung with
// the message delivered), and checks every Say against the world's log
// of deliveries: a Say that returned a receipt was delivered once, by
// that bot; a Say whose message was delivered, or may have been, never
// returned a plain ErrStopped (nor any error but "outcome unknown"); no
// message was delivered twice.
func TestSayRaceWithStopTellsTheTruth(t *testing.T) {
	var plain, unknown int
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, u := sayRaceWithStop(t, seed)
				plain += p
				unknown += u
			})
		})
	}
	// The race was run: both ends of it were seen.
	assert.Positive(t, plain, "no Say ended with a plain ErrStopped")
	assert.Positive(t, unknown, "no Say ended with ErrStopped and an unknown outcome")
}

func sayRaceWithStop(t *testing.T, seed uint64) (plain, unknown int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	world := mock.NewWorld(mock.WithSeed(seed))
	defer world.Close()
	require.NoError(t, world.AddContact("alice", "Alice"))
	pool, err := hawechaty.New(hawechaty.WithSeed(seed), hawechaty.WithSendTimeout(2*time.Second))
	require.NoError(t, err)
	for i, latency := range []time.Duration{0, 300 * time.Millisecond, 3 * time.Second, -1} {
		b, err := world.AddBot(fmt.Sprint("bot-", i))
		require.NoError(t, err)
		if latency < 0 {
			b.Hang(true) // each message arrives, and no answer comes
		} else {
			b.SetLatency(latency)
		}
		require.NoError(t, pool.Add(t.Context(), deafBot{b}))
	}
	require.NoError(t, pool.Start(t.Context()))
	synctest.Wait()

	var mu sync.Mutex
	var results []sayResult
	var wg sync.WaitGroup
	for s := range 40 {
		srng := rand.New(rand.NewPCG(seed, uint64(100+s)))
		wg.Go(func() {
			for i := 0; ; i++ {
				time.Sleep(time.Duration(srng.IntN(200)) * time.Millisecond)
				ctx, cancel := context.WithCancel(t.Context())
				if srng.IntN(2) == 0 {
					ctx, cancel = context.WithTimeout(t.Context(), time.Duration(500+srng.IntN(4000))*time.Millisecond)
				}
				text := fmt.Sprintf("s%d-%d", s, i)
				r, err := pool.Say(ctx, "alice", text)
				cancel()
				mu.Lock()
				results = append(results, sayResult{text, r, err})
				mu.Unlock()
				if errors.Is(err, hawechaty.ErrStopped) {
					return
				}
			}
		})
	}
	time.Sleep(time.Second + time.Duration(rng.Int64N(int64(5*time.Second))))
	require.NoError(t, pool.Stop(context.Background()))
	wg.Wait()
	time.Sleep(time.Hour) // whatever the puppets still do ends
	synctest.Wait()

	delivered := map[string][]string{} // text → bots
	for _, d := range world.Delivered() {
		if d.To == "alice" {
			delivered[d.Text] = append(delivered[d.Text], d.Bot)
		}
	}
	for text, bots := range delivered {
		assert.Len(t, bots, 1, "%q delivered more than once", text)
	}
	for _, res := range results {
		bots, sent := delivered[res.text]
		switch {
		case res.err == nil:
			if assert.True(t, sent, "%q: a receipt, and no delivery", res.text) {
				assert.Equal(t, res.r.Bot, bots[0], "%q: the receipt names another bot", res.text)
			}
		case errors.Is(res.err, puppet.ErrOutcomeUnknown):
			if errors.Is(res.err, hawechaty.ErrStopped) {
				unknown++
			}
		default:
			assert.False(t, sent, "%q was delivered, and Say said: %v", res.text, res.err)
			if errors.Is(res.err, hawechaty.ErrStopped) {
				plain++
			}
		}
	}
	t.Logf("seed %d: %d Says, %d delivered, %d plain ErrStopped, %d stopped with an unknown outcome", seed, len(results), len(delivered), plain, unknown)
	return plain, unknown
}
