package epics_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A logged-out bot whose connection goes on beating (the puppet service
// forwards heartbeats whatever the login) and answering puppet-level
// dings is failed FailAfter after its last real sign of life, and reset.
// Its heartbeats used to keep it watched, never failed, forever.
func TestHeartbeatOfALoggedOutBotIsNoSignOfLife(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{})
		defer r.stop()
		r.add(t, "b1", newFake("b1"))
		r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "b1"}))
		time.Sleep(10 * time.Second)
		r.dispatch(t, actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}))
		for range 20 {
			time.Sleep(30 * time.Second)
			r.dispatch(t, actions.Heartbeat.New(actions.BotPayload{Bot: "b1"}))
			r.dispatch(t, actions.Dong.New(actions.BotPayload{Bot: "b1"}))
		}
		synctest.Wait()
		got := r.log(actions.BotFailed.Type(), actions.ResetStarted.Type())
		require.GreaterOrEqual(t, len(got), 3, "%q", got)
		assert.Equal(t, []string{
			"2m0s bot/FAILED b1", // counted from the login
			"2m1s bot/RESET_STARTED b1#1+1s",
			"2m2.6s bot/RESET_STARTED b1#2+1.6s",
		}, got[:3])
		assert.NotContains(t, got[1:], "bot/FAILED", "failed once, then reset")
	})
}

// The same rule in marbles: a Heartbeat restarts the clock of a bot that
// is logged in, not of one that is logged out.
func TestHeartbeatMarblesLoginState(t *testing.T) {
	v := marbletest.Values{
		"h": actions.Heartbeat.New(b1),
		"g": actions.Dong.New(b1),
		"d": ding(1), "e": ding(2), "f": ding(3),
		"x": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "no sign of life for 2m0s after 3 dings"}),
	}
	loggedOut := reducers.PoolReducer(reducers.Pool{}, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}))
	epic := epics.Heartbeat(noJitter(epics.Config{}), epics.Deps{})
	cases := []struct {
		name        string
		state       reducers.Pool
		input, want string
	}{
		{"logged in: a heartbeat restarts the clock", loggedIn("b1"), "64s h", "60s d 63s d 19s e 19s f 19s x"},
		{"logged out: heartbeats do not", loggedOut, "30s h 29s h 29s g", "60s d 19s e 19s f 19s x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
				marbletest.ExpectEpic(m, epic, marbletest.EpicCase[reducers.Pool]{Input: c.input, Values: v, State: c.state, Expected: c.want, For: 5 * time.Minute})
			})
		})
	}
}

// Bots added before the store started are watched from its start: one
// that never logs in is failed after FailAfter. (The heartbeat no longer
// takes a logged-out bot's Heartbeat for a sign of life, so it cannot
// wait for one to start watching.)
func TestHeartbeatWatchesBotsAddedBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		initial := reducers.PoolReducer(reducers.Pool{}, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}))
		st, err := store.New(reducers.PoolReducer, initial,
			store.WithEpic("heartbeat", epics.Heartbeat(noJitter(epics.Config{}), epics.Deps{})))
		require.NoError(t, err)
		r := &rig{st: st, sub: st.Subscribe(1000)}
		require.NoError(t, st.Start(t.Context()))
		defer st.Stop()
		r.start = time.Now()
		r.dispatch(t, actions.Heartbeat.New(b1)) // what the facade dispatches at Start
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"1m0s bot/DING b1#1", "1m20s bot/DING b1#2", "1m40s bot/DING b1#3", "2m0s bot/FAILED b1"},
			r.log(actions.Ding.Type(), actions.BotFailed.Type()))
	})
}

// A bot waiting for a QR scan is neither dinged nor failed for FailAfter:
// a human may take minutes. It logs in within ScanTimeout and is watched
// as usual from then on. It used to be failed after FailAfter, and each
// reset restarted the login, so that a scan slower than the backoff could
// never complete.
func TestHeartbeatWaitsForAPendingScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{})
		defer r.stop()
		r.add(t, "b1", newFake("b1"))
		time.Sleep(10 * time.Second)
		r.dispatch(t, actions.Scan.New(b1))
		time.Sleep(5 * time.Minute)
		r.dispatch(t, actions.Heartbeat.New(b1)) // not logged in: no sign of life
		time.Sleep(5 * time.Second)
		r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "b1"}))
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{
			"6m15s bot/DING b1#1", // a minute after the login
			"6m35s bot/DING b1#2",
			"6m55s bot/DING b1#3",
			"7m15s bot/FAILED b1",
		}, r.log(actions.Ding.Type(), actions.BotFailed.Type()))
	})
}

// A scan that does not end in a login within ScanTimeout fails the bot,
// counted from the first Scan: a refreshed QR code does not move the
// deadline.
func TestHeartbeatFailsAScanAfterScanTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{FailAfter: time.Minute, DingAfter: 30 * time.Second, ScanTimeout: 5 * time.Minute})
		defer r.stop()
		r.add(t, "b1", newFake("b1"))
		r.dispatch(t, actions.Scan.New(b1))
		time.Sleep(2 * time.Minute)
		r.dispatch(t, actions.Scan.New(b1)) // the QR code is refreshed
		time.Sleep(3*time.Minute + 2*time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"5m0s bot/FAILED b1", "5m1s bot/RESET_STARTED b1#1+1s"},
			r.log(actions.Ding.Type(), actions.BotFailed.Type(), actions.ResetStarted.Type()))
		b, _ := r.st.State().Bots.Get("b1")
		assert.Equal(t, "no login 5m0s after a QR scan", b.Reason)
		assert.False(t, b.Available)
	})
}
