package mock_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDieIsSilentUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		up(t, b1)
		b1.Die()
		assert.True(t, b1.LoggedIn(), "a dead bot does not tell")

		took, err := sayWithin(t, b1, 5*time.Second, "alice", "lost")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))
		assert.Equal(t, 5*time.Second, took, "a dead bot's send hangs until the deadline")
		_, err = sayWithin(t, b1, time.Second, "nowhere", "lost")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err), "no answer, not even a refusal")
		require.NoError(t, b1.Ding(t.Context(), "x"), "the ding goes out")
		_, err = w.Post("alice", "b1", "hello?")
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err = b1.Rooms(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "a dead bot's lists hang too")
		time.Sleep(time.Minute)
		assert.True(t, quiet(b1), "no message, no dong")
		assert.Empty(t, w.Delivered())

		require.NoError(t, b1.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind, "stopping is local: the puppet reports it")
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind, "a reset brings it back")
		require.NoError(t, b1.Say(t.Context(), "alice", "back"))
		assert.Equal(t, []string{"b1>alice:back"}, texts(w.Delivered()))
	})
}

func TestKillSurvivesResetsUntilRevive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t)
		up(t, b1)
		b1.Kill()
		require.NoError(t, b1.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind)
		require.NoError(t, b1.Start(t.Context()), "a killed bot starts without error")
		assert.True(t, quiet(b1), "and no login follows")
		_, err := sayWithin(t, b1, time.Second, "alice", "x")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))

		b1.Revive()
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)
	})
}

func TestLogOutFailsSendsUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t)
		up(t, b1)
		b1.LogOut()
		ev := next(t, b1)
		assert.Equal(t, puppet.EventLogout, ev.Kind)
		assert.False(t, b1.LoggedIn())
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Say(t.Context(), "alice", "x")))
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Ding(t.Context(), "x")))
		require.NoError(t, b1.Start(t.Context()), "already started: a no-op")
		assert.True(t, quiet(b1), "Start alone is no reset")
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)
		require.NoError(t, b1.Say(t.Context(), "alice", "x"))
	})
}

func TestFailSendsUntilCleared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		up(t, b1)
		b1.FailSends(true)
		err := b1.Say(t.Context(), "alice", "a")
		assert.Equal(t, puppet.NotSent, puppet.Classify(err))
		assert.ErrorIs(t, err, mock.ErrInjected)
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Say(t.Context(), "alice", "b")), "a reset does not clear it")
		b1.FailSends(false)
		require.NoError(t, b1.Say(t.Context(), "alice", "c"))
		assert.Equal(t, []string{"b1>alice:c"}, texts(w.Delivered()))
	})
}

func TestHangIsAmbiguousAndDeliveredCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		up(t, b1)
		up(t, b2)

		b1.Hang(true) // delivered, then hangs: the ambiguous case
		took, err := sayWithin(t, b1, 3*time.Second, "alice", "maybe")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))
		assert.ErrorIs(t, err, mock.ErrInjected)
		assert.Equal(t, 3*time.Second, took)
		// A careless pool resends elsewhere: the world shows the double.
		require.NoError(t, b2.Say(t.Context(), "alice", "maybe"))
		count := 0
		for _, d := range w.Delivered() {
			if d.Text == "maybe" {
				count++
			}
		}
		assert.Equal(t, 2, count)

		b1.Hang(false) // hangs without delivering
		_, err = sayWithin(t, b1, time.Second, "team", "never")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))
		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "nowhere", "x")), "a hung bot still refuses unknown targets")

		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		require.NoError(t, b1.Say(t.Context(), "alice", "after reset"), "a reset clears the hang")
		assert.Equal(t, []string{"b1>alice:maybe", "b2>alice:maybe", "b1>alice:after reset"}, texts(w.Delivered()))
	})
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		up(t, b1)
		b1.SetLatency(3 * time.Second)

		took, err := sayWithin(t, b1, time.Minute, "team", "slow")
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, took)
		assert.Equal(t, time.Now(), w.Delivered()[0].Time, "delivered when the latency is over")

		took, err = sayWithin(t, b1, time.Second, "team", "too slow")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))
		assert.Equal(t, time.Second, took)

		res := make(chan error)
		go func() { res <- b1.Say(t.Context(), "team", "dies on the way") }()
		time.Sleep(time.Second)
		b1.Die()
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(<-res))

		b1.ClearFaults()
		took, err = sayWithin(t, b1, time.Minute, "team", "fast")
		require.NoError(t, err)
		assert.Zero(t, took)
		assert.Equal(t, []string{"b1>team:slow", "b1>team:fast"}, texts(w.Delivered()))
	})
}

func TestDropInboundLosesMessagesNotDongEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		up(t, b1)
		up(t, b2)
		b1.DropInbound(true)
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding"))
		_, err := w.Post("alice", "team", "room")
		require.NoError(t, err)
		assert.Equal(t, "room", next(t, b2).Message.Text, "other bots are not affected")
		time.Sleep(time.Minute)
		assert.True(t, quiet(b1), "the dong and the room message are lost")

		require.NoError(t, b1.Ding(t.Context(), "p"))
		assert.Equal(t, puppet.EventDong, next(t, b1).Kind, "a protocol-level dong still arrives")

		b1.DropInbound(false)
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding"))
		assert.Equal(t, "dong", next(t, b1).Message.Text)
	})
}

func TestFailStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t)
		b1.FailStart(2)
		assert.ErrorIs(t, b1.Start(t.Context()), mock.ErrInjected)
		assert.ErrorIs(t, b1.Start(t.Context()), mock.ErrInjected)
		assert.False(t, b1.LoggedIn())
		up(t, b1)

		require.NoError(t, b1.Stop(t.Context()))
		next(t, b1)
		b1.FailStart(-1)
		for range 5 {
			assert.ErrorIs(t, b1.Start(t.Context()), mock.ErrInjected)
		}
		b1.ClearFaults()
		up(t, b1)
	})
}

// flapTimeline returns when b1 logged in and out while flapping for ten
// virtual minutes; with alsoB2, b2 flaps too.
func flapTimeline(t *testing.T, seed uint64, alsoB2 bool) []string {
	var out []string
	synctest.Test(t, func(t *testing.T) {
		_, b1, b2 := world(t, mock.WithSeed(seed))
		up(t, b1)
		up(t, b2)
		start := time.Now()
		b1.Flap(30 * time.Second)
		if alsoB2 {
			b2.Flap(30 * time.Second)
		}
		deadline := time.After(10 * time.Minute)
		for {
			select {
			case ev := <-b1.Events():
				out = append(out, fmt.Sprint(time.Since(start), " ", ev.Kind))
			case <-b2.Events():
			case <-deadline:
				b1.ClearFaults()
				b2.ClearFaults()
				return
			}
		}
	})
	return out
}

func TestFlapIsReproducibleWithASeed(t *testing.T) {
	a := flapTimeline(t, 7, false)
	assert.Equal(t, a, flapTimeline(t, 7, false), "same seed, same timeline")
	assert.Equal(t, a, flapTimeline(t, 7, true), "another bot's flapping does not shift it")
	assert.NotEqual(t, a, flapTimeline(t, 8, false), "another seed, another timeline")
	assert.Greater(t, len(a), 10, "it flaps: %v", a)
}

func TestFlapPhasesAndRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t, mock.WithSeed(3))
		up(t, b1)
		const period = 20 * time.Second
		b1.Flap(period)
		b1.Flap(period) // no second flapper
		b1.ClearFaults()
		b1.Flap(period) // the first one's pending timer must not come back
		last := time.Now()
		want := puppet.EventLogout
		for range 40 {
			ev := next(t, b1)
			gap := time.Since(last)
			last = time.Now()
			assert.Equal(t, want, ev.Kind)
			assert.GreaterOrEqual(t, gap, period/2)
			assert.Less(t, gap, 3*period/2)
			want = map[puppet.EventKind]puppet.EventKind{puppet.EventLogout: puppet.EventLogin, puppet.EventLogin: puppet.EventLogout}[ev.Kind]
		}
		b1.ClearFaults()
		time.Sleep(time.Hour)
		assert.True(t, quiet(b1), "ClearFaults stops flapping")
	})
}

// TestDeterministicWorld plays a busy hour of three bots with random
// faults twice and expects the same events, message IDs and deliveries.
func TestDeterministicWorld(t *testing.T) {
	run := func(seed uint64) []string {
		var log []string
		synctest.Test(t, func(t *testing.T) {
			w, b1, b2 := world(t, mock.WithSeed(seed), mock.WithDongDelay(2*time.Second))
			b3, err := w.AddBot("b3")
			require.NoError(t, err)
			require.NoError(t, w.Join("team", "b3"))
			bots := []*mock.Bot{b1, b2, b3}
			logs := make([][]string, len(bots)) // one reader goroutine per bot writes its own
			start := time.Now()
			for i, b := range bots {
				require.NoError(t, b.Start(t.Context()))
				b.Flap(time.Duration(len(b.Name())) * 40 * time.Second)
				go func() {
					for ev := range b.Events() {
						line := fmt.Sprint(b.Name(), " ", time.Since(start), " ", ev.Kind)
						if ev.Message != nil {
							line += " " + ev.Message.ID + " " + ev.Message.Text
						}
						logs[i] = append(logs[i], line)
					}
				}()
				synctest.Wait()
			}
			for i := range 120 {
				time.Sleep(30 * time.Second)
				_, err := w.Post("alice", "team", fmt.Sprint("tick ", i))
				require.NoError(t, err)
				synctest.Wait()
				for _, b := range bots {
					_ = b.Say(t.Context(), w.HeartbeatContact(), "ding")
					synctest.Wait()
				}
			}
			require.NoError(t, w.Close())
			synctest.Wait()
			for _, l := range logs {
				log = append(log, l...)
			}
			for _, d := range w.Delivered() {
				log = append(log, fmt.Sprint(d.Bot, ">", d.To, " ", d.MessageID, " ", d.Time.Sub(start)))
			}
		})
		return log
	}
	a := run(11)
	assert.Equal(t, a, run(11))
	assert.NotEqual(t, a, run(12))
	assert.Greater(t, len(a), 300)
}

// SlowStart: Start waits, deaf to its context, then starts as usual, so it
// returns nil after the caller's deadline; only closing the bot cuts the
// wait short.
func TestSlowStartIsDeafToItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t)
		b1.SlowStart(40 * time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, b1.Start(ctx), "nil, after the deadline")
		assert.Equal(t, 40*time.Second, time.Since(start))
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)

		require.NoError(t, b1.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind)
		assert.ErrorIs(t, b1.Start(ctx), context.DeadlineExceeded, "a context already done fails at once")

		b1.ClearFaults()
		start = time.Now()
		up(t, b1)
		assert.Zero(t, time.Since(start))

		require.NoError(t, b1.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind)
		b1.SlowStart(time.Hour)
		done := make(chan error, 1)
		go func() { done <- b1.Start(t.Context()) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Start returned %v within its slow start", err)
		default:
		}
		require.NoError(t, b1.Close())
		assert.ErrorIs(t, <-done, mock.ErrClosed)
	})
}

// TrySay answers at once exactly when Say would, with Say's outcome, and
// otherwise does nothing at all: a fault that makes a send wait (a dead
// or hung bot, a latency) is left to Say.
func TestTrySayAnswersOnlyWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		var _ puppet.TrySayer = b1
		type ownSay struct{ *mock.Bot } // embeds the bot; its Say would be its own

		done, err := puppet.TrySay(b1, "alice", "stopped")
		assert.True(t, done)
		assert.Equal(t, puppet.NotSent, puppet.Classify(err), "not started: refused at once")

		up(t, b1)
		done, err = puppet.TrySay(b1, "alice", "hello")
		require.True(t, done)
		require.NoError(t, err)
		done, err = puppet.TrySay(ownSay{b1}, "alice", "through a wrapper")
		assert.False(t, done, "a type embedding the bot gets no TrySay of the bot's")
		assert.NoError(t, err)
		done, err = puppet.TrySay(b1, "nowhere", "x")
		assert.True(t, done)
		assert.Equal(t, puppet.Permanent, puppet.Classify(err))

		waits := []struct {
			name   string
			inject func()
		}{
			{"latency", func() { b1.SetLatency(time.Second) }},
			{"hang that delivers", func() { b1.Hang(true) }},
			{"hang", func() { b1.Hang(false) }},
			{"dead", b1.Die},
		}
		for _, c := range waits {
			c.inject()
			done, err := puppet.TrySay(b1, "alice", c.name)
			assert.False(t, done, c.name)
			assert.NoError(t, err, c.name)
			b1.ClearFaults()
		}
		b1.FailSends(true)
		done, err = puppet.TrySay(b1, "alice", "refused")
		assert.True(t, done)
		assert.Equal(t, puppet.NotSent, puppet.Classify(err))
		assert.Equal(t, []string{"b1>alice:hello"}, texts(w.Delivered()), "only the send that answered delivered")
	})
}
