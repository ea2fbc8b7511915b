package hawechaty_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of the failure, reset and recovery loop through the
// facade, over the mock world.

// seen returns the bot and the type of each action of the given types
// that sub received so far, in dispatch order.
func seen(sub *store.Subscription[reducers.Pool], types ...string) []actions.Action {
	var out []actions.Action
	for {
		select {
		case c := <-sub.C():
			for _, typ := range types {
				if c.Action.Type == typ {
					out = append(out, c.Action)
				}
			}
		default:
			return out
		}
	}
}

func count(as []actions.Action, typ string) int {
	n := 0
	for _, a := range as {
		if a.Type == typ {
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

					sub := pool.Store().Subscribe(1 << 16)
					nb, err := world.AddBot("bot-a")
					require.NoError(t, err)
					nb.FailStart(-1)
					assert.ErrorIs(t, pool.Add(t.Context(), nb), mock.ErrInjected)
					time.Sleep(10 * time.Minute)
					synctest.Wait()
					got := seen(sub, actions.BotFailed.Type(), actions.ResetStarted.Type())
					require.NotEmpty(t, got, "seed %d: the new bot never failed", seed)
					assert.Equal(t, actions.BotFailed.Type(), got[0].Type)
					assert.Greater(t, count(got, actions.ResetStarted.Type()), 3, "seed %d: the new bot is reset with backoff", seed)
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
		sub := pool.Store().Subscribe(1 << 16)
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background()) // closing the world cuts a slow Start short
		synctest.Wait()

		b.Kill()
		b.SlowStart(15 * time.Second)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := seen(sub, actions.ResetStarted.Type(), actions.ResetFailed.Type())
		assert.Greater(t, count(got, actions.ResetStarted.Type()), 5)
		assert.Greater(t, count(got, actions.ResetFailed.Type()), 5)
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
		sub := pool.Store().Subscribe(1 << 16)
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
		got := seen(sub, actions.BotFailed.Type(), actions.ResetStarted.Type(), actions.Login.Type())
		require.NotEmpty(t, got)
		assert.Equal(t, actions.Login.Type(), got[0].Type, "logged in before any failure or reset")
		assert.Equal(t, 3*time.Minute, got[0].Meta.Time.Sub(t0), "the first login, after the scan delay")
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
		sub := pool.Store().Subscribe(1 << 16)
		t0 := time.Now()
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())

		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := seen(sub, actions.BotFailed.Type(), actions.ResetStarted.Type())
		require.NotEmpty(t, got)
		assert.Equal(t, actions.BotFailed.Type(), got[0].Type)
		assert.Equal(t, 5*time.Minute, got[0].Meta.Time.Sub(t0), "failed at the scan timeout")
		assert.Equal(t, 1, count(got, actions.ResetStarted.Type()), "then reset once, and waiting for the new scan")
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
		sub := pool.Store().Subscribe(1 << 16)
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()

		b.LogOut()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := seen(sub, actions.Heartbeat.Type(), actions.BotFailed.Type(), actions.ResetStarted.Type(), actions.Login.Type())
		assert.Greater(t, count(got, actions.Heartbeat.Type()), 10, "the connection beat all along")
		assert.Equal(t, 1, count(got, actions.BotFailed.Type()))
		assert.Equal(t, 1, count(got, actions.ResetStarted.Type()))
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
