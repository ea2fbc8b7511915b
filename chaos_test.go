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
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChaos runs 5 bots for a virtual hour under seeded random faults
// (bob, a contact of two bots only, unfriending them by turns among them),
// with DevTools jumps mixed in (Store().Replace with reducers.Pool{}, the
// state of a RESET, and with random earlier states), while 5,000 Says and
// media sends (one in five: link cards and images) go through the pool, then checks the promises of the design: every Say
// returns exactly once and tells the truth (a receipt: delivered once, by
// that bot; an error other than "outcome unknown": not delivered); no
// message is delivered twice; no send is routed to a bot that is out of
// rotation (failed, logged out) or that does not reach its target; nothing
// reaches bob but through his friends; a bot that dies silently is
// detected within FailAfter plus one ding period; and the jumps leave
// every bot in the pool.
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
			perSender = 500
			hour      = time.Hour
			failAfter = 120 * time.Second
			dingEvery = 20 * time.Second
		)
		rng := rand.New(rand.NewPCG(seed, 99))
		world := mock.NewWorld(mock.WithSeed(seed))
		defer world.Close()
		require.NoError(t, world.AddContact("alice", "Alice"))
		require.NoError(t, world.AddContact("bob", "Bob"))
		pool, err := hawechaty.New(hawechaty.WithSeed(seed), hawechaty.WithSendTimeout(5*time.Second))
		require.NoError(t, err)
		// Contacts known to some bots only: bob is a friend of bot-0 and
		// bot-1 (and loses and regains them by turns below); bot-4 does not
		// follow the heartbeat contact and is dinged through the protocol.
		friends := [nbots][]string{
			{mock.DefaultHeartbeatContact, "alice", "bob"},
			{mock.DefaultHeartbeatContact, "alice", "bob"},
			{mock.DefaultHeartbeatContact, "alice"},
			{mock.DefaultHeartbeatContact, "alice"},
			{"alice"},
		}
		bots := make([]*mock.Bot, nbots)
		for i := range bots {
			bots[i], err = world.AddBot(fmt.Sprintf("bot-%d", i), mock.WithFriends(friends[i]...))
			require.NoError(t, err)
			require.NoError(t, pool.Add(t.Context(), bots[i]))
		}
		changes := pool.Store().Subscribe(1 << 16)
		require.NoError(t, pool.Start(t.Context()))
		start := time.Now()
		synctest.Wait()
		snaps := []reducers.Pool{{}, pool.State()} // RESET, and just after the start
		jumps := 0

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
				switch rng.IntN(8) {
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
				case 7:
					// bob unfriends bot-0 or bot-1 for a while: the
					// pool learns it from a refusal, and again from the
					// friendship event when it is back.
					b = bots[rng.IntN(2)]
					_ = world.Unfriend(b.Name(), "bob")
					back := time.Duration(rng.Int64N(int64(5 * time.Minute)))
					go func() {
						select {
						case <-time.After(back):
						case <-stopFaults:
						}
						_ = world.Befriend(b.Name(), "bob")
					}()
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

		// DevTools: every 10 to 60 virtual seconds, a jump to an earlier
		// state (one seen at an earlier jump, or just after the start) or
		// to RESET's (reducers.Pool{}).
		jumpsDone := make(chan struct{})
		go func() {
			defer close(jumpsDone)
			jrng := rand.New(rand.NewPCG(seed, 98))
			for {
				select {
				case <-time.After(10*time.Second + time.Duration(jrng.Int64N(int64(50*time.Second)))):
				case <-stopFaults:
					return
				}
				snaps = append(snaps, pool.State())
				if err := pool.Store().Replace(snaps[jrng.IntN(len(snaps))], "devtools"); err != nil {
					t.Errorf("jump: %v", err)
					return
				}
				jumps++
				if h := pool.Health(); h.Total != nbots {
					t.Errorf("after a jump, Health shows %d bots of %d", h.Total, nbots)
				}
			}
		}()

		// Senders: 5,000 Says spread over the hour, each text unique.
		var returned, delivered, failed atomic.Int64
		results := make([][]sayResult, senders)
		var wg sync.WaitGroup
		for s := range senders {
			wg.Go(func() {
				gap := hour / perSender
				for i := range perSender {
					time.Sleep(gap)
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					text := fmt.Sprintf("s%d-%d", s, i)
					to := "alice"
					if i%3 == 0 {
						to = "bob"
					}
					var r hawechaty.Receipt
					var err error
					switch i % 10 { // one send in five is media, delivered under its URL or file name
					case 4:
						text = "https://example.com/" + text
						r, err = pool.Send(ctx, to, puppet.LinkMedia(puppet.URLLink{URL: text, Title: "chaos"}))
					case 9:
						text += ".png"
						r, err = pool.Send(ctx, to, puppet.FileMedia(puppet.FileFromBytes(text, []byte(text))))
					default:
						r, err = pool.Say(ctx, to, text)
					}
					cancel()
					results[s] = append(results[s], sayResult{text, r, err})
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
		<-jumpsDone
		elapsed := time.Since(start)
		require.NoError(t, pool.Stop(context.Background()))

		assert.Equal(t, int64(senders*perSender), returned.Load(), "every Say returned")
		assert.GreaterOrEqual(t, elapsed, hour)

		// No message delivered twice, and every Say told the truth.
		seen := map[string][]string{} // text → the bots that delivered it
		for _, d := range world.Delivered() {
			if d.To == "alice" || d.To == "bob" {
				seen[d.Text] = append(seen[d.Text], d.Bot)
			}
			if d.To == "bob" && d.Bot != "bot-0" && d.Bot != "bot-1" {
				t.Errorf("%q reached bob through %s, which is not his friend", d.Text, d.Bot)
			}
		}
		for text, bots := range seen {
			if len(bots) > 1 {
				t.Errorf("%q delivered %d times, by %v", text, len(bots), bots)
			}
		}
		lies := 0
		for _, rs := range results {
			for _, res := range rs {
				bots, sent := seen[res.text]
				switch {
				case res.err == nil && (!sent || bots[0] != res.r.Bot):
					t.Errorf("%q: a receipt from %s, and deliveries by %v", res.text, res.r.Bot, bots)
					lies++
				case res.err != nil && sent && !errors.Is(res.err, puppet.ErrOutcomeUnknown):
					t.Errorf("%q was delivered by %v, and Say said: %v", res.text, bots, res.err)
					lies++
				}
			}
		}
		assert.Zero(t, lies)

		// Replay the store: no route to a bot out of rotation; detection bound.
		require.Zero(t, changes.Dropped(), "the audit subscription kept up")
		failedAt := map[string][]time.Time{} // when the reducer failed each bot
		routes, badRoutes, nchanges, strangers := 0, 0, 0, 0
		var prev reducers.Pool
		for c := range changes.C() {
			nchanges++
			a := c.Action
			for id, b := range c.State.Bots.All() {
				if old, ok := prev.Bots.Get(id); ok && b.Phase == reducers.Failed && old.Phase != reducers.Failed {
					failedAt[id] = append(failedAt[id], a.Meta.Time)
				}
			}
			if id, bot, ok := routed(c); ok {
				routes++
				if sd, _ := c.State.Sends.Get(id); !reducers.Reaches(c.State, sd.To, bot) {
					t.Errorf("%v: send %s to %s routed to %s, which does not reach it", a.Meta.Time.Sub(start), id, sd.To, bot)
				} else if sd.To == "bob" && bot != "bot-0" && bot != "bot-1" {
					strangers++ // allowed only for a bot whose contacts could not be listed
				}
				before, _ := prev.Bots.Get(bot)
				after, _ := c.State.Bots.Get(bot)
				if before == nil || after == nil || !before.Available || !after.Available {
					badRoutes++
					t.Errorf("%v: send %s routed to %s, which was out of rotation", a.Meta.Time.Sub(start), id, bot)
				}
			}
			prev = c.State
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
		unreachable, byOutcome := 0, map[string]int{}
		for _, rs := range results {
			for _, res := range rs {
				if errors.Is(res.err, hawechaty.ErrUnreachable) {
					unreachable++
				}
				if se, ok := errors.AsType[*hawechaty.SendError](res.err); ok {
					byOutcome[se.Outcome.String()+" to "+se.To]++
				}
			}
		}
		t.Logf("seed %d: failures by outcome %v", seed, byOutcome)
		t.Logf("seed %d: %d Says (%d delivered, %d failed, %d unreachable), %d routes (%d to bob through a bot not listed), %d silent deaths, %d jumps, %d changes, virtual %v",
			seed, returned.Load(), delivered.Load(), failed.Load(), unreachable, routes, strangers, len(deaths), jumps, nchanges, elapsed.Round(time.Second))
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
