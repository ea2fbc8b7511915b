package epics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClockFiresAtTheNextDeadline: the clock emits bot/DUE exactly at the
// next deadline the state holds, for the bot due then, with the deadline
// it saw; it switches to a nearer deadline as soon as the state has one;
// and a sign of life (a lazy deadline) costs one bot/DUE that moves the
// deadline, not a ding.
func TestClockFiresAtTheNextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.log()

		r.until(60*time.Second - time.Millisecond)
		assert.Empty(t, r.log(actions.Due.Type()), "nothing before the first deadline")
		r.until(60 * time.Second)
		dues := r.changes()
		var at []time.Duration
		var bots []string
		for _, c := range dues {
			if p, ok := actions.Due.Match(c.Action); ok {
				at = append(at, p.At.Sub(r.start))
				bots = append(bots, p.Bot)
				assert.Equal(t, p.At, c.Action.Meta.Time, "stamped at its deadline")
			}
		}
		assert.Equal(t, []time.Duration{60 * time.Second, 60 * time.Second}, at)
		assert.ElementsMatch(t, []string{"b1", "b2"}, bots)

		// A nearer deadline: b2 fails at 70 s, its first reset is due at
		// 71 s, before the next ding at 80 s.
		r.until(70 * time.Second)
		r.dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b2", Reason: "operator"}))
		r.until(71 * time.Second)
		assert.Equal(t, []string{"1m11s bot/DUE b2"}, r.log(actions.Due.Type()))

		// b1 speaks at 75 s: at 80 s the clock finds its real deadline is
		// later (2m15s), without a ding; the next ding is then at 2m15s.
		r.until(75 * time.Second)
		r.dispatch(actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m1", From: "carol", Text: "hi"}))
		r.until(135 * time.Second)
		assert.Equal(t, []string{
			"1m13s bot/DUE b2", // b2's resets: 2 s after the first ended at 71 s, then 4 s, 8 s, 8 s …
			"1m17s bot/DUE b2",
			"1m20s bot/DUE b1", // b1's lazy deadline: no ding
			"1m25s bot/DUE b2",
			"1m33s bot/DUE b2",
			"1m41s bot/DUE b2",
			"1m49s bot/DUE b2",
			"1m57s bot/DUE b2",
			"2m5s bot/DUE b2",
			"2m13s bot/DUE b2",
			"2m15s bot/DUE b1",
			"2m15s bot/DING b1 #1",
		}, r.log(actions.Due.Type(), actions.Ding.Type()))
	})
}

// TestDingsAtTheRightTimes: a silent bot is dinged through the heartbeat
// contact at 60, 80 and 100 s, failed at 120 s and reset with backoff; a
// bot that answers is dinged once per minute of silence and never fails.
// With PuppetDing, a puppet that offers it is also dinged by protocol.
func TestDingsAtTheRightTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := exact()
		cfg.PuppetDing = true
		r := newRig(t, cfg, "quiet", "loud")
		defer r.stop()
		f := &fakePuppet{name: "proto", start: r.start}
		r.addPuppet("proto", dinger{f}, f)
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "proto", Self: "self-proto"}))
		r.answer("loud")

		r.until(3*time.Minute + 30*time.Second)
		assert.Equal(t, []string{
			"1m0s say gh_051c89260e5d:ding",
			"1m20s say gh_051c89260e5d:ding",
			"1m40s say gh_051c89260e5d:ding",
			"2m1s stop", "2m1s start", // failed at 2m0s, reset 1 s later
			"2m3s stop", "2m3s start",
			"2m7s stop", "2m7s start",
			"2m15s stop", "2m15s start",
			"2m23s stop", "2m23s start",
			"2m31s stop", "2m31s start",
			"2m39s stop", "2m39s start",
			"2m47s stop", "2m47s start",
			"2m55s stop", "2m55s start",
			"3m3s stop", "3m3s start",
			"3m11s stop", "3m11s start",
			"3m19s stop", "3m19s start",
			"3m27s stop", "3m27s start",
		}, r.fake("quiet").Calls()[1:], "rooms listed at login, then the heartbeat")
		assert.Equal(t, []string{
			"0s rooms",
			"1m0s say gh_051c89260e5d:ding",
			"2m0s say gh_051c89260e5d:ding",
			"3m0s say gh_051c89260e5d:ding",
		}, r.fake("loud").Calls())
		assert.Equal(t, []string{
			"0s rooms",
			"1m0s say gh_051c89260e5d:ding", "1m0s ding",
			"1m20s say gh_051c89260e5d:ding", "1m20s ding",
			"1m40s say gh_051c89260e5d:ding", "1m40s ding",
		}, f.Calls()[:7])
		assert.True(t, r.botOf("loud").Available)
		assert.False(t, r.botOf("quiet").Available)
		assert.Contains(t, r.log(actions.BotFailed.Type()), "2m0s bot/FAILED quiet (no sign of life for 2m0s after 3 dings)")
	})
}

// TestDingErrorIsReportedNotCounted: a ding that cannot be sent is
// reported in bot/DING; it does not fail the bot (silence does).
func TestDingErrorIsReportedNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1")
		defer r.stop()
		r.fake("b1").set(func(f *fakePuppet) {
			f.say = func(context.Context, string, string) error { return errors.New("offline") }
		})
		r.until(61 * time.Second)
		assert.Equal(t, []string{"1m0s bot/DING b1 #1 error: offline"}, r.log(actions.Ding.Type()))
		assert.True(t, r.botOf("b1").Available)
		assert.Zero(t, r.botOf("b1").Failures)
	})
}

// TestResetsWithBackoffUntilLogin: the resets of a failed bot follow the
// backoff, each scheduled when the one before ended; a login during a
// reset ends them, and the heartbeat starts again from the login.
func TestResetsWithBackoffUntilLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.answer("b2")
		starts := 0
		r.fake("b1").set(func(f *fakePuppet) {
			f.onStart = func(context.Context) error {
				starts++
				if starts == 3 {
					// The third start logs in, 500 ms in.
					time.Sleep(500 * time.Millisecond)
					return r.st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
				}
				return errors.New("no network")
			}
		})
		r.log()
		r.until(130 * time.Second)
		assert.ElementsMatch(t, []string{
			"2m0s bot/FAILED b1 (no sign of life for 2m0s after 3 dings)",
			"2m1s bot/RESET_DONE b1 #1 error: start: no network",
			"2m3s bot/RESET_DONE b1 #2 error: start: no network",
			"2m7.5s bot/RECOVERED b1", // the login during the third start
			"2m7.5s bot/RESET_DONE b1 #3",
		}, r.log(actions.BotFailed.Type(), actions.ResetDone.Type(), actions.BotRecovered.Type()))
		b := r.botOf("b1")
		assert.True(t, b.Available)
		assert.Zero(t, b.Reset)
		assert.Equal(t, r.start.Add(187500*time.Millisecond), b.Due, "the next ding 60 s after the login")
	})
}

// TestDeafResetIsReportedAtSendTimeout: a reset whose Stop ignores its
// context is reported failed at SendTimeout, and the backoff goes on.
func TestDeafResetIsReportedAtSendTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1")
		defer r.stop()
		r.fake("b1").set(func(f *fakePuppet) { f.onStop = r.deaf })
		r.dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "operator"}))
		r.until(70 * time.Second)
		assert.Equal(t, []string{
			"31s bot/RESET_DONE b1 #1 error: stop and start took longer than 30s",
			"1m3s bot/RESET_DONE b1 #2 error: stop and start took longer than 30s",
		}, r.log(actions.ResetDone.Type()))
		assert.Equal(t, []string{"0s rooms", "1s stop", "33s stop", "1m7s stop"}, r.fake("b1").Calls())
	})
}

// TestScanIsNotReset: a bot scanning a QR code is not dinged and not reset
// until ScanTimeout, although the health epic tells it is unavailable.
func TestScanIsNotReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.answer("b2")
		r.until(10 * time.Second)
		r.dispatch(actions.Scan.New(actions.ScanPayload{Bot: "b1"}))
		r.until(10*time.Minute + 9*time.Second)
		assert.Equal(t, []string{"0s rooms"}, r.fake("b1").Calls(), "no ding, no reset while scanning")
		assert.Equal(t, []string{"10s bot/FAILED b1 (scan: waiting for a QR scan)"}, r.log(actions.BotFailed.Type()))
		r.until(10*time.Minute + 11*time.Second)
		assert.Equal(t, []string{"0s rooms", "10m11s stop", "10m11s start"}, r.fake("b1").Calls(), "reset 1 s after the scan timed out")
	})
}

// TestLogoutIsFailedForSilence: a logged-out bot is told unavailable at
// once, but failed and reset only when its silence lasts FailAfter.
func TestLogoutIsFailedForSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.answer("b2")
		r.until(30 * time.Second)
		r.dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}))
		r.until(121 * time.Second)
		assert.Equal(t, []string{"30s bot/FAILED b1 (logout: kicked)"}, r.log(actions.BotFailed.Type()))
		var resets []string
		for _, c := range r.fake("b1").Calls() {
			if c[len(c)-4:] == "stop" {
				resets = append(resets, c)
			}
		}
		assert.Equal(t, []string{"2m1s stop"}, resets, "reset 1 s after FailAfter, not at the logout")
	})
}

// TestHealthTellsFlips: bot/FAILED and bot/RECOVERED for each flip, and
// pool/FAILED and pool/RECOVERED for the pool's last and first bot.
func TestHealthTellsFlips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		types := []string{actions.BotFailed.Type(), actions.BotRecovered.Type(), actions.PoolFailed.Type(), actions.PoolRecovered.Type()}
		assert.Equal(t, []string{"0s bot/RECOVERED b1", "0s bot/RECOVERED b2"}, r.log(types...), "the logins")
		r.dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}))
		synctest.Wait()
		r.dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b2", Reason: "operator"}))
		synctest.Wait()
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
		synctest.Wait()
		r.dispatch(actions.Dong.New(actions.BotPayload{Bot: "b2"}))
		synctest.Wait()
		assert.Equal(t, []string{
			"0s bot/FAILED b1 (logout: kicked)", // the health epic's notice
			"0s bot/FAILED b2 (operator)",       // the operator's command
			"0s bot/FAILED b2 (operator)",       // and its notice
			"0s pool/FAILED ",
			"0s bot/RECOVERED b1",
			"0s pool/RECOVERED ",
			"0s bot/RECOVERED b2",
		}, r.log(types...))
		require.True(t, r.botOf("b1").Available && r.botOf("b2").Available)
	})
}

// TestRoomsListedAtLoginAndAfterPermanent: the rooms handler lists a bot's
// rooms when the reducer asks (login, a permanent failure), and the
// reducer routes room sends through members only.
func TestRoomsListedAtLoginAndAfterPermanent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact())
		defer r.stop()
		for _, b := range []string{"b1", "b2"} {
			f := r.add(b)
			if b == "b2" {
				f.set(func(f *fakePuppet) { f.rooms = roomsOf("r1") })
			}
			r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: "self-" + b}))
		}
		synctest.Wait()
		assert.ElementsMatch(t, []string{"0s bot/ROOMS b1 []", "0s bot/ROOMS b2 [r1]"}, r.log(actions.RoomsLearned.Type()))
		r.say("s1", "r1")
		synctest.Wait()
		assert.Equal(t, "b2", r.sendOf("s1").Bot)

		// b2 left r1: its send fails for good, and its rooms are listed
		// again, so that r1 is no longer routed to it.
		r.fake("b2").set(func(f *fakePuppet) {
			f.rooms = nil
			f.say = func(context.Context, string, string) error { return errPermanent }
		})
		r.say("s2", "r1")
		synctest.Wait()
		assert.Equal(t, actions.Permanent, r.sendOf("s2").Outcome)
		assert.Equal(t, []string{"0s bot/ROOMS b2 []"}, r.log(actions.RoomsLearned.Type()))
		assert.False(t, r.st.State().Rooms.Has("r1"))
	})
}

// TestInboxAcceptsEachMessageOnce: a message seen by two bots is delivered
// and announced once; the pool's own accounts' messages are not.
func TestInboxAcceptsEachMessageOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		msg := func(bot, id, from string) {
			r.dispatch(actions.Message.New(actions.MessagePayload{Bot: bot, MessageID: id, From: from, Room: "r1", Text: "hi"}))
		}
		msg("b1", "m1", "carol")
		msg("b2", "m1", "carol")
		msg("b2", "m2", "dave")
		msg("b1", "m2", "dave")
		msg("b1", "m3", "self-b2")
		msg("b1", "", "carol")
		msg("b2", "", "carol")
		synctest.Wait()
		accepted := r.log(actions.MessageAccepted.Type())
		assert.Equal(t, []string{
			"0s inbox/ACCEPTED b1 m1",
			"0s inbox/ACCEPTED b2 m2",
			"0s inbox/ACCEPTED b1 ",
			"0s inbox/ACCEPTED b2 ",
		}, accepted)
		assert.Equal(t, []string{"b1:m1", "b2:m2", "b1:", "b2:"}, r.deliveredSoFar())
		assert.Equal(t, 4, r.st.State().Accepted)
	})
}

var errPermanent = fmt.Errorf("blocked: %w", puppet.ErrPermanent)

func roomsOf(ids ...string) []puppet.Room {
	var out []puppet.Room
	for _, id := range ids {
		out = append(out, puppet.Room{ID: id})
	}
	return out
}

// A Config is shared with the reducers: the epics package re-exports it.
var _ = epics.Config(exact())
