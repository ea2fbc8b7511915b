package hawechaty_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of the failure, reset and recovery loop through the
// facade, over the mock world.

// Kinds of step that are not action types: decisions the reducer made,
// read from the state it left (reducers.Bot's Phase and ResetBy), and
// results with an error.
const (
	failed       = "failed"        // the bot entered the Failed phase (silence, ejection, scan timeout, bot/FAILED)
	resetStarted = "reset started" // a bot/DUE whose reduction started a reset
	resetFailed  = "reset failed"  // a bot/RESET_DONE with an error
)

// step is one thing the pool did.
type step struct {
	Kind string // an action type, or failed, resetStarted, resetFailed
	Bot  string
	Time time.Time
}

// trail follows a pool's store and tells what each change did. A dropped
// change would hide a decision: steps fails the test if one was dropped.
type trail struct {
	sub  *store.Subscription[reducers.Pool]
	prev reducers.Pool
}

func follow(pool *hawechaty.Pool) *trail {
	return &trail{sub: pool.Store().Subscribe(1 << 14), prev: pool.State()}
}

// kinds names what a change did: its action's type, and the decisions
// the reducer marked in the state.
func (tr *trail) kinds(c store.Change[reducers.Pool]) []string {
	a := c.Action
	out := []string{a.Type}
	bot := actions.BotOf(a)
	if b, ok := c.State.Bots.Get(bot); ok {
		if old, had := tr.prev.Bots.Get(bot); b.Phase == reducers.Failed && (!had || old.Phase != reducers.Failed) {
			out = append(out, failed)
		}
		if actions.Due.Is(a) && b.ResetBy == a.Meta.Seq {
			out = append(out, resetStarted)
		}
	}
	if p, ok := actions.ResetDone.Match(a); ok && p.Error != "" {
		out = append(out, resetFailed)
	}
	tr.prev = c.State
	return out
}

// steps returns the steps of the given kinds since the last call, in
// dispatch order.
func (tr *trail) steps(t *testing.T, kinds ...string) []step {
	t.Helper()
	var out []step
	for {
		select {
		case c := <-tr.sub.C():
			for _, k := range tr.kinds(c) {
				if slices.Contains(kinds, k) {
					out = append(out, step{Kind: k, Bot: actions.BotOf(c.Action), Time: c.Action.Meta.Time})
				}
			}
		default:
			require.Zero(t, tr.sub.Dropped(), "the trail missed changes")
			return out
		}
	}
}

func count(steps []step, kind string) int {
	n := 0
	for _, s := range steps {
		if s.Kind == kind {
			n++
		}
	}
	return n
}

// A silent bot removed around the instant the heartbeat fails it, then
// added again under the same name with a puppet that cannot start, is
// reset like any failed bot. The removed bot's late BotFailed used to leave
// a reset behind that swallowed the new bot's failures.
func TestRemovedBotAddedAgainIsReset(t *testing.T) {
	for _, removeAt := range []time.Duration{100 * time.Second, 120 * time.Second, 150 * time.Second} {
		t.Run(removeAt.String(), func(t *testing.T) {
			for seed := range uint64(20) {
				synctest.Test(t, func(t *testing.T) {
					world := mock.NewWorld()
					defer world.Close()
					b, err := world.AddBot("bot-a")
					require.NoError(t, err)
					pool, err := hawechaty.New(hawechaty.WithSeed(seed))
					require.NoError(t, err)
					require.NoError(t, pool.Add(t.Context(), b))
					require.NoError(t, pool.Start(t.Context()))
					defer pool.Stop(context.Background())
					synctest.Wait()
					b.Die()
					time.Sleep(removeAt)
					require.NoError(t, pool.Remove(t.Context(), "bot-a"))
					time.Sleep(time.Minute)
					synctest.Wait()

					tr := follow(pool)
					nb, err := world.AddBot("bot-a")
					require.NoError(t, err)
					nb.FailStart(-1)
					assert.ErrorIs(t, pool.Add(t.Context(), nb), mock.ErrInjected)
					time.Sleep(10 * time.Minute)
					synctest.Wait()
					got := tr.steps(t, failed, resetStarted)
					require.NotEmpty(t, got, "seed %d: the new bot never failed", seed)
					assert.Equal(t, failed, got[0].Kind)
					assert.Greater(t, count(got, resetStarted), 3, "seed %d: the new bot is reset with backoff", seed)
				})
			}
		})
	}
}

// A bot whose puppet Start returns nil only after the reset's deadline,
// and stays silent (killed), is reset again and again with backoff. Such a
// reset used to be dropped, and no reset ever followed.
func TestResetOfASlowStartingBotGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithSeed(1), hawechaty.WithSendTimeout(10*time.Second))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		tr := follow(pool)
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background()) // closing the world cuts a slow Start short
		synctest.Wait()

		b.Kill()
		b.SlowStart(15 * time.Second)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := tr.steps(t, resetStarted, resetFailed)
		assert.Greater(t, count(got, resetStarted), 5)
		assert.Greater(t, count(got, resetFailed), 5)
		bot, _ := pool.State().Bots.Get("bot-a")
		assert.Contains(t, bot.Reason, "took longer than 10s")
	})
}

// A QR scan that takes a human three minutes completes: while the scan is
// pending the bot is unavailable but neither failed nor reset. Each reset
// used to restart the login, so it never completed.
func TestSlowQRScanLogsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a", mock.WithScan("qr"), mock.WithLoginDelay(3*time.Minute))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		tr := follow(pool)
		t0 := time.Now()
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())

		time.Sleep(150 * time.Second) // past FailAfter
		synctest.Wait()
		bot, _ := pool.State().Bots.Get("bot-a")
		assert.False(t, bot.Available, "waiting for a scan")
		assert.Equal(t, "scan: waiting for a QR scan", bot.Reason)

		time.Sleep(time.Hour)
		synctest.Wait()
		bot, _ = pool.State().Bots.Get("bot-a")
		assert.True(t, bot.LoggedIn)
		assert.True(t, bot.Available)
		got := tr.steps(t, failed, resetStarted, actions.Login.Type())
		require.NotEmpty(t, got)
		assert.Equal(t, actions.Login.Type(), got[0].Kind, "logged in before any failure or reset")
		assert.Equal(t, 3*time.Minute, got[0].Time.Sub(t0), "the first login, after the scan delay")
	})
}

// WithScanTimeout bounds the wait for a scan: a scan slower than it fails
// the bot at the timeout, and the reset that follows shows a new QR code.
func TestScanSlowerThanScanTimeoutFailsTheBot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a", mock.WithScan("qr"), mock.WithLoginDelay(time.Hour))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithSeed(1), hawechaty.WithScanTimeout(5*time.Minute))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		tr := follow(pool)
		t0 := time.Now()
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())

		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := tr.steps(t, failed, resetStarted)
		require.NotEmpty(t, got)
		assert.Equal(t, failed, got[0].Kind)
		assert.Equal(t, 5*time.Minute, got[0].Time.Sub(t0), "failed at the scan timeout")
		assert.Equal(t, 1, count(got, resetStarted), "then reset once, and waiting for the new scan")
	})
	_, err := hawechaty.New(hawechaty.WithFailAfter(time.Hour), hawechaty.WithScanTimeout(time.Minute))
	assert.ErrorContains(t, err, "ScanTimeout")
}

// A bot logged out by the platform while its connection keeps beating is
// failed and reset, and logs in again. Its heartbeats used to count as
// signs of life, so it was never reset.
func TestLoggedOutBotWithHeartbeatsIsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a", mock.WithHeartbeat(30*time.Second))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		tr := follow(pool)
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()

		b.LogOut()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := tr.steps(t, actions.Heartbeat.Type(), failed, resetStarted, actions.Login.Type())
		assert.Greater(t, count(got, actions.Heartbeat.Type()), 10, "the connection beat all along")
		assert.Equal(t, 1, count(got, failed))
		assert.Equal(t, 1, count(got, resetStarted))
		assert.Equal(t, 2, count(got, actions.Login.Type()), "logged in again by the reset")
		bot, _ := pool.State().Bots.Get("bot-a")
		assert.True(t, bot.Available)
	})
}

// A bot added before Start whose first Start fails is failed after
// FailAfter and reset: the heartbeat watches the bots already in the pool
// when it starts.
func TestBotAddedBeforeStartIsResetWhenItNeverLogsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		b.FailStart(1)
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		require.ErrorIs(t, pool.Start(t.Context()), mock.ErrInjected)
		defer pool.Stop(context.Background())
		time.Sleep(2*time.Minute + 2*time.Second) // FailAfter, then the first reset within 1.2 s
		synctest.Wait()
		bot, _ := pool.State().Bots.Get("bot-a")
		assert.True(t, bot.LoggedIn)
		assert.True(t, bot.Available)
	})
}

// New rejects options that would make the pool misbehave silently.
func TestNewRejectsNaNAndAZeroDingPeriod(t *testing.T) {
	nan := math.NaN()
	for name, opt := range map[string]hawechaty.Option{
		"backoff factor NaN": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: nan, Jitter: 0.2, Max: time.Minute}),
		"backoff jitter NaN": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: 2, Jitter: nan, Max: time.Minute}),
		"backoff factor Inf": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: math.Inf(1), Jitter: 0.2, Max: time.Minute}),
		"DingAfter 2ns":      hawechaty.WithDingAfter(2 * time.Nanosecond),
	} {
		_, err := hawechaty.New(opt)
		assert.Error(t, err, name)
	}
}

// A bot that logs out is unavailable at once, but it is failed (and reset)
// only when its silence lasts FailAfter, as a silent bot is: the pool's
// own bot/FAILED, which tells of the logout, is news and not a command
// to fail the bot again.
func TestLoggedOutBotIsFailedAfterFailAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		pool := startPool(t, nil, b)
		defer pool.Stop(context.Background())
		tr := follow(pool)

		t0 := time.Now()
		b.LogOut()
		time.Sleep(2*time.Minute - time.Second)
		synctest.Wait()
		bot, _ := pool.State().Bots.Get("bot-a")
		assert.False(t, bot.Available)
		assert.Equal(t, reducers.Watching, bot.Phase, "failed before FailAfter: %q", bot.Reason)
		assert.Empty(t, tr.steps(t, failed, resetStarted), "failed or reset before FailAfter")

		time.Sleep(time.Minute)
		synctest.Wait()
		got := tr.steps(t, failed, resetStarted, actions.Login.Type())
		require.Len(t, got, 3, "%+v", got)
		assert.Equal(t, failed, got[0].Kind)
		assert.Equal(t, 2*time.Minute, got[0].Time.Sub(t0), "failed FailAfter after the logout")
		assert.Equal(t, []string{resetStarted, actions.Login.Type()}, []string{got[1].Kind, got[2].Kind})
	})
}

// A QR scan asked of a bot that was logged in (the platform wants the
// account scanned again) makes it unavailable, and the pool waits for the
// human: no reset restarts the login before ScanTimeout.
func TestScanOfALoggedInBotIsNotReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newFake("a")
		pool := startPool(t, nil, a)
		defer pool.Stop(context.Background())
		tr := follow(pool)

		a.Emit(puppet.Event{Kind: puppet.EventScan, Data: "qr"})
		time.Sleep(9 * time.Minute) // ScanTimeout is 10 minutes
		synctest.Wait()
		bot, _ := pool.State().Bots.Get("a")
		assert.Equal(t, reducers.Scanning, bot.Phase, "%q", bot.Reason)
		assert.Empty(t, tr.steps(t, failed, resetStarted), "the scan was cut short")
		assert.True(t, a.Started(), "the puppet was stopped under the scan")
	})
}

// A bot whose sends hang, deaf to their context, while its connection
// keeps beating is ejected after three sends in a row that got no answer
// within SendTimeout, although every caller gave up (1 s) long before: a
// send that does not answer is the bot's failure, whatever the caller's
// deadline. Each caller returns at its deadline (+100 ms), told that the
// message may have left. Sends then go to the other bot.
func TestBotWhoseSendsHangIsEjectedWhileItBeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newFake("a"), newFake("b")
		a.Beat(10 * time.Second)
		b.Beat(10 * time.Second)
		a.Deafen("Say")
		defer a.Release()
		pool := startPool(t, []hawechaty.Option{hawechaty.WithSendTimeout(5 * time.Second)}, a, b)
		defer pool.Stop(context.Background())
		tr := follow(pool)

		var lastA time.Time
		for i := range 5 { // round robin: a, b, a, b, a
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			start := time.Now()
			if i%2 == 0 {
				lastA = start
			}
			r, err := pool.Say(ctx, "alice", fmt.Sprint("m", i))
			cancel()
			assert.LessOrEqual(t, time.Since(start), time.Second+100*time.Millisecond, "the caller's deadline did not bound Say")
			if i%2 == 0 {
				var se *hawechaty.SendError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "a", se.Bot)
				assert.Equal(t, actions.Abandoned, se.Outcome)
				assert.ErrorIs(t, err, puppet.ErrOutcomeUnknown)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "b", r.Bot)
			}
			time.Sleep(4 * time.Second) // past the hung attempt's SendTimeout
		}
		synctest.Wait()
		bot, _ := pool.State().Bots.Get("a")
		assert.False(t, bot.Available, "a bot whose sends hang stays in rotation")
		assert.Equal(t, "3 consecutive failed sends", bot.Reason)
		assert.Equal(t, 3, a.Attempts())
		assert.Less(t, time.Since(bot.LastSeen), 15*time.Second, "its connection beat all along")
		got := tr.steps(t, failed)
		require.Len(t, got, 1)
		assert.Equal(t, lastA.Add(5*time.Second), got[0].Time, "ejected when the third hung attempt's SendTimeout passed")

		r, err := pool.Say(t.Context(), "alice", "after")
		require.NoError(t, err)
		assert.Equal(t, "b", r.Bot)
	})
}
