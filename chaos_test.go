package hawechaty_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChaos runs 5 bots for a virtual hour under seeded random faults while
// 10,000 Says go through the pool, then checks the promises of the design:
// every Say returns exactly once; no message is delivered twice; no send is
// routed to a bot after it was declared failed and before it recovered; a
// bot that dies silently is detected within FailAfter plus one ding period.
func TestChaos(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { chaos(t, seed) })
	}
}

func chaos(t *testing.T, seed uint64) {
	synctest.Test(t, func(t *testing.T) {
		const (
			nbots     = 5
			senders   = 10
			perSender = 1000
			hour      = time.Hour
			failAfter = 120 * time.Second
			dingEvery = 20 * time.Second
		)
		rng := rand.New(rand.NewPCG(seed, 99))
		world := mock.NewWorld(mock.WithSeed(seed))
		defer world.Close()
		require.NoError(t, world.AddContact("alice", "Alice"))
		pool, err := hawechaty.New(hawechaty.WithSeed(seed), hawechaty.WithSendTimeout(5*time.Second))
		require.NoError(t, err)
		bots := make([]*mock.Bot, nbots)
		for i := range bots {
			bots[i], err = world.AddBot(fmt.Sprintf("bot-%d", i))
			require.NoError(t, err)
			require.NoError(t, pool.Add(t.Context(), bots[i]))
		}
		changes := pool.Store().Subscribe(1 << 21)
		require.NoError(t, pool.Start(t.Context()))
		start := time.Now()

		// Faults: every 1 to 5 virtual minutes one bot gets a random fault;
		// faults other than death are cleared after a while.
		type death struct {
			bot string
			at  time.Time
		}
		var deaths []death
		faultsDone := make(chan struct{})
		stopFaults := make(chan struct{})
		go func() {
			defer close(faultsDone)
			for {
				select {
				case <-time.After(time.Minute + time.Duration(rng.Int64N(int64(4*time.Minute)))):
				case <-stopFaults:
					for _, b := range bots {
						b.ClearFaults()
					}
					return
				}
				b := bots[rng.IntN(nbots)]
				switch rng.IntN(7) {
				case 0:
					if up, _ := pool.State().Avail.Get(b.Name()); up {
						deaths = append(deaths, death{b.Name(), time.Now()})
					}
					b.Die()
				case 1:
					b.LogOut()
				case 2:
					b.FailSends(true)
				case 3:
					b.Hang(rng.IntN(2) == 0)
				case 4:
					b.SetLatency(time.Duration(rng.Int64N(int64(8 * time.Second))))
				case 5:
					b.Flap(2 * time.Minute)
				case 6:
					b.DropInbound(true)
				}
				clearAfter := time.Duration(rng.Int64N(int64(3 * time.Minute)))
				go func() {
					select {
					case <-time.After(clearAfter):
						b.FailSends(false)
						b.SetLatency(0)
						b.DropInbound(false)
					case <-stopFaults:
					}
				}()
			}
		}()

		// Senders: 10,000 Says spread over the hour, each text unique.
		var returned, delivered, failed atomic.Int64
		var wg sync.WaitGroup
		for s := range senders {
			wg.Go(func() {
				gap := hour / perSender
				for i := range perSender {
					time.Sleep(gap)
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					_, err := pool.Say(ctx, "alice", fmt.Sprintf("s%d-%d", s, i))
					cancel()
					returned.Add(1)
					if err == nil {
						delivered.Add(1)
					} else {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		close(stopFaults)
		<-faultsDone
		elapsed := time.Since(start)
		require.NoError(t, pool.Stop(context.Background()))

		assert.Equal(t, int64(senders*perSender), returned.Load(), "every Say returned")
		assert.GreaterOrEqual(t, elapsed, hour)

		// No message delivered twice, and every delivered Say is in the world.
		seen := map[string]int{}
		for _, d := range world.Delivered() {
			if d.To == "alice" {
				seen[d.Text]++
			}
		}
		for text, n := range seen {
			if n > 1 {
				t.Errorf("%q delivered %d times", text, n)
			}
		}
		assert.GreaterOrEqual(t, int64(len(seen)), delivered.Load(), "every reported delivery reached the world")

		// Replay the store: no route to a failed bot; detection bound.
		require.Zero(t, changes.Dropped(), "the audit subscription kept up")
		failedBots := map[string]bool{}
		failedAt := map[string][]time.Time{}
		routes, badRoutes := 0, 0
		for c := range changes.C() {
			a := c.Action
			switch a.Type {
			case actions.BotFailed.Type():
				p, _ := actions.BotFailed.Match(a)
				failedBots[p.Bot] = true
				failedAt[p.Bot] = append(failedAt[p.Bot], a.Meta.Time)
			case actions.Logout.Type():
				p, _ := actions.Logout.Match(a)
				failedBots[p.Bot] = true
			case actions.Login.Type():
				p, _ := actions.Login.Match(a)
				failedBots[p.Bot] = false
			case actions.Dong.Type():
				p, _ := actions.Dong.Match(a)
				if b, ok := c.State.Bots.Get(p.Bot); ok && b.Available {
					failedBots[p.Bot] = false
				}
			default:
				if id, bot, ok := routed(c); ok {
					routes++
					if failedBots[bot] {
						badRoutes++
						t.Errorf("%v: send %s routed to %s, which was failed", a.Meta.Time.Sub(start), id, bot)
					}
				}
			}
		}
		assert.Zero(t, badRoutes)
		for _, d := range deaths {
			var detected time.Time
			for _, f := range failedAt[d.bot] {
				if !f.Before(d.at) {
					detected = f
					break
				}
			}
			if assert.False(t, detected.IsZero(), "%s died at %v and was never failed", d.bot, d.at.Sub(start)) {
				assert.LessOrEqual(t, detected.Sub(d.at), failAfter+dingEvery, "%s died at %v", d.bot, d.at.Sub(start))
			}
		}
		t.Logf("seed %d: %d Says (%d delivered, %d failed), %d routes, %d silent deaths, virtual %v",
			seed, returned.Load(), delivered.Load(), failed.Load(), routes, len(deaths), elapsed.Round(time.Second))
	})
}

// routed reports the attempt a change decided: the send whose record the
// reducer marked with the change's Seq (reducers.Send.RoutedBy), and its bot.
func routed(c store.Change[reducers.Pool]) (id, bot string, ok bool) {
	a := c.Action
	switch {
	case actions.SendRequested.Is(a):
		p, _ := actions.SendRequested.Match(a)
		id = p.ID
	case actions.SendRetry.Is(a):
		p, _ := actions.SendRetry.Match(a)
		id = p.ID
	case actions.SendResult.Is(a):
		p, _ := actions.SendResult.Match(a)
		id = p.ID
	default:
		return "", "", false
	}
	sd, found := c.State.Sends.Get(id)
	if !found || sd.RoutedBy != a.Meta.Seq {
		return "", "", false
	}
	return id, sd.Bot, true
}
