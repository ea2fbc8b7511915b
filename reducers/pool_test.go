package reducers_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is an action at a time since t0.
type step struct {
	at time.Duration
	a  actions.Action
}

func at(d time.Duration, a actions.Action) step { return step{d, a} }

// reduceCase is one action reduced after a setup: whether the reducer must
// return the very same value, and what else to check.
type reduceCase struct {
	name  string
	setup []step
	act   step
	same  bool // the reducer must return the very same value
	check func(t *testing.T, w *world, before reducers.Pool, seq uint64)
}

// runReduceCases runs each case in a world of cfg. Each also checks that
// the reducer did not write the pool it was given (its JSON is the same
// after), and the invariants (world.do).
func runReduceCases(t *testing.T, cfg reducers.Config, tests []reduceCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, cfg)
			for _, st := range tt.setup {
				w.at(st.at, st.a)
			}
			before := w.s
			frozen := mustJSON(t, before)
			w.at(tt.act.at, tt.act.a)
			if tt.same {
				assert.True(t, w.s == before, "%s: the same value", tt.act.a.Type)
			} else {
				assert.False(t, w.s == before, "%s: a new value", tt.act.a.Type)
			}
			assert.Equal(t, frozen, mustJSON(t, before), "the reducer wrote the pool it was given")
			if tt.check != nil {
				tt.check(t, w, before, w.seq)
			}
		})
	}
}

// twoUp is b1 and b2 added and logged in at 0 s.
var twoUp = []step{at(0, added("b1")), at(0, added("b2")), at(0, login("b1")), at(0, login("b2"))}

func with(base []step, more ...step) []step { return append(append([]step(nil), base...), more...) }

// TestReduceEachAction reduces one action on a prepared pool and checks
// what changed, for every action the pool reducer knows and some it does
// not. Each case also checks that the reducer did not write the pool it
// was given (its JSON is the same after), and the invariants (world.do).
func TestReduceEachAction(t *testing.T) {
	const sec = time.Second
	tests := []reduceCase{
		// bot/ADDED
		{name: "added: watched, unavailable, first deadline the first ding", act: at(5*sec, added("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.Equal(t, reducers.Watching, b.Phase)
				assert.False(t, b.Available)
				assert.Equal(t, "added", b.Reason)
				assert.Equal(t, t0.Add(65*sec), b.Due)
				_, bot, _ := w.s.Deadlines.Min()
				assert.Equal(t, "b1", bot)
				assert.Equal(t, 0, w.s.Available)
			}},
		{name: "added twice: unchanged", setup: twoUp, act: at(sec, added("b1")), same: true},
		{name: "added without a name: unchanged", act: at(0, added("")), same: true},

		// bot/REMOVED
		{name: "removed: gone from every table", setup: with(twoUp, at(0, rooms("b1", "r1", "r2")), at(0, rooms("b2", "r1"))),
			act: at(sec, removed("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.False(t, w.s.Bots.Has("b1"))
				assert.False(t, w.s.Avail.Has("b1"))
				assert.False(t, w.s.Selves.Has("self-b1"))
				assert.Equal(t, 1, w.s.Deadlines.Len())
				assert.Equal(t, 1, w.s.Available)
				m, _ := w.s.Rooms.Get("r1")
				assert.Equal(t, []string{"b2"}, m)
				assert.False(t, w.s.Rooms.Has("r2"), "a room without members is forgotten")
			}},
		{name: "removed, unknown: unchanged", setup: twoUp, act: at(sec, removed("b9")), same: true},
		{name: "removed, the last available: the pool is down", setup: with(twoUp, at(0, logout("b2"))), act: at(sec, removed("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.True(t, w.s.Down)
				assert.Equal(t, seq, w.s.DownBy)
			}},

		// bot/LOGIN
		{name: "login: available, rooms listed, flip told", setup: []step{at(0, added("b1"))}, act: at(10*sec, login("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.True(t, b.Available && b.LoggedIn)
				assert.Equal(t, "self-b1", b.Self)
				assert.Equal(t, seq, b.RoomsBy)
				assert.Equal(t, seq, b.FlipBy)
				assert.Equal(t, t0.Add(10*sec), b.LastSeen)
				assert.True(t, w.s.Selves.Has("self-b1"))
				assert.True(t, w.s.EverUp)
				assert.Zero(t, w.s.DownBy, "the first bot up is not a recovery")
			}},
		{name: "login as another account: the old one is no longer the pool's", setup: twoUp,
			act: at(sec, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "other"})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.False(t, w.s.Selves.Has("self-b1"))
				assert.True(t, w.s.Selves.Has("other"))
				assert.NotEqual(t, seq, w.bot("b1").FlipBy, "it was available already")
			}},
		{name: "login ends a failure and its backoff", setup: with(twoUp, at(0, failed("b1", "x"))), act: at(sec, login("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.Equal(t, reducers.Watching, b.Phase)
				assert.Zero(t, b.Reset)
				assert.True(t, b.ResetAt.IsZero())
				assert.Empty(t, b.Reason)
			}},
		{name: "login, unknown bot: unchanged", setup: twoUp, act: at(sec, login("b9")), same: true},

		// bot/LOGOUT
		{name: "logout: unavailable but watched", setup: twoUp, act: at(30*sec, logout("b1")),
			check: func(t *testing.T, w *world, before reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.False(t, b.Available || b.LoggedIn)
				assert.Equal(t, reducers.Watching, b.Phase)
				assert.Equal(t, seq, b.FlipBy)
				assert.Equal(t, "logout: kicked", b.Reason)
				old, _ := before.Bots.Get("b1")
				assert.Equal(t, old.Due, b.Due, "its deadline stands")
				assert.True(t, w.s.Selves.Has("self-b1"), "its account is still the pool's")
			}},

		// bot/SCAN
		{name: "scan: unavailable, scanning, fails at ScanTimeout", setup: twoUp, act: at(10*sec, scan("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.Equal(t, reducers.Scanning, b.Phase)
				assert.False(t, b.Available)
				assert.Equal(t, t0.Add(10*sec+10*time.Minute), w.cfg.NextDeadline(&b))
			}},
		{name: "scan refreshed: the deadline stays", setup: with(twoUp, at(10*sec, scan("b1"))), act: at(5*time.Minute, scan("b1")),
			same: true,
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, t0.Add(10*sec), w.bot("b1").ScanSince)
			}},

		// bot/MESSAGE
		{name: "message: a sign of life, the deadline stays early, accepted", setup: twoUp,
			act: at(30*sec, message("b1", "m1", "carol", "r1")),
			check: func(t *testing.T, w *world, before reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.Equal(t, t0.Add(30*sec), b.LastSeen)
				assert.Equal(t, before.Deadlines, w.s.Deadlines, "lazy: the deadlines do not change on a message")
				m, _ := w.s.Rooms.Get("r1")
				assert.Equal(t, []string{"b1"}, m, "the bot is in the room it heard from")
				assert.Equal(t, seq, w.s.AcceptedBy("m1"))
			}},
		{name: "message seen by another bot: not accepted again", setup: with(twoUp, at(0, message("b1", "m1", "carol", "r1"))),
			act: at(sec, message("b2", "m1", "carol", "r1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.NotEqual(t, seq, w.s.AcceptedBy("m1"))
				m, _ := w.s.Rooms.Get("r1")
				assert.Equal(t, []string{"b1", "b2"}, m)
			}},
		{name: "message from the pool's own account: not accepted", setup: twoUp,
			act: at(sec, message("b1", "m1", "self-b2", "")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Zero(t, w.s.AcceptedBy("m1"))
				assert.Equal(t, t0.Add(sec), w.bot("b1").LastSeen, "still a sign of life")
			}},
		{name: "message of a removed bot: unchanged", setup: twoUp, act: at(sec, message("b9", "m1", "carol", "r1")), same: true},

		// bot/HEARTBEAT and bot/DONG
		{name: "heartbeat while logged in: a sign of life", setup: twoUp, act: at(30*sec, heartbeat("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, t0.Add(30*sec), w.bot("b1").LastSeen)
			}},
		{name: "heartbeat while logged out: unchanged", setup: with(twoUp, at(0, logout("b1"))), act: at(30*sec, heartbeat("b1")), same: true},
		{name: "dong while logged in: recovers a failed bot", setup: with(twoUp, at(0, failed("b1", "x"))), act: at(30*sec, dong("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.True(t, b.Available)
				assert.Equal(t, seq, b.FlipBy)
				assert.Equal(t, t0.Add(30*sec), b.LastSeen)
			}},
		{name: "dong while logged out: unchanged", setup: with(twoUp, at(0, logout("b1"))), act: at(30*sec, dong("b1")), same: true},

		// bot/ROOMS
		{name: "rooms: replaced, in pool order", setup: with(twoUp, at(0, rooms("b2", "r1")), at(0, rooms("b1", "r2"))),
			act: at(sec, rooms("b1", "r1", "r3")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				m, _ := w.s.Rooms.Get("r1")
				assert.Equal(t, []string{"b1", "b2"}, m)
				assert.False(t, w.s.Rooms.Has("r2"))
				assert.True(t, w.s.Rooms.Has("r3"))
			}},
		{name: "rooms of an unknown bot: unchanged", setup: twoUp, act: at(sec, rooms("b9", "r1")), same: true},

		// bot/DUE
		{name: "due at the first ding", setup: twoUp, act: at(60*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(60 * sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.Equal(t, seq, b.DingBy)
				assert.Equal(t, 1, b.Dings)
				assert.Equal(t, t0.Add(80*sec), b.Due)
			}},
		{name: "due seen late: the clock's reading counts, not the deadline", setup: twoUp,
			act: at(61*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(60 * sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, t0.Add(81*sec), w.bot("b1").NextDing)
			}},
		{name: "due stamped early: the deadline counts", setup: twoUp,
			act: at(59*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(60 * sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.Equal(t, seq, w.bot("b1").DingBy)
				assert.Equal(t, t0.Add(80*sec), w.bot("b1").NextDing)
			}},
		{name: "due for a deadline that moved: unchanged", setup: twoUp,
			act: at(60*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(59 * sec)})), same: true},
		{name: "due for an unknown bot: unchanged", setup: twoUp,
			act: at(60*sec, actions.Due.New(actions.DuePayload{Bot: "b9", At: t0.Add(60 * sec)})), same: true},
		{name: "due after a sign of life: no ding, the deadline moves to the real one", setup: with(twoUp, at(30*sec, heartbeat("b1"))),
			act: at(60*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(60 * sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.NotEqual(t, seq, b.DingBy)
				assert.Equal(t, t0.Add(90*sec), b.Due)
			}},
		{name: "due at FailAfter: failed, first reset scheduled", setup: twoUp,
			act: at(120*sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(60 * sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.Equal(t, reducers.Failed, b.Phase)
				assert.Equal(t, seq, b.FlipBy)
				assert.Equal(t, t0.Add(121*sec), b.ResetAt)
				assert.Equal(t, b.ResetAt, b.Due)
			}},
		{name: "due at a reset: it starts, nothing more is due", setup: with(twoUp, at(0, failed("b1", "x"))),
			act: at(sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(sec)})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.Equal(t, seq, b.ResetBy)
				assert.Equal(t, 1, b.Reset)
				assert.True(t, b.Resetting)
				assert.True(t, b.Due.IsZero())
				assert.Equal(t, 1, w.s.Deadlines.Len())
			}},

		// bot/RESET_DONE
		{name: "reset done: the next one after the backoff", setup: with(twoUp, at(0, failed("b1", "x")),
			at(sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(sec)}))),
			act: at(3*sec, resetDone("b1", 1, "")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.False(t, b.Resetting)
				assert.Equal(t, t0.Add(5*sec), b.ResetAt)
				assert.Equal(t, "x", b.Reason)
			}},
		{name: "reset done with an error: the reason says so", setup: with(twoUp, at(0, failed("b1", "x")),
			at(sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(sec)}))),
			act: at(3*sec, resetDone("b1", 1, "boom")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, "reset failed: boom", w.bot("b1").Reason)
			}},
		{name: "reset done for another attempt: unchanged", setup: with(twoUp, at(0, failed("b1", "x")),
			at(sec, actions.Due.New(actions.DuePayload{Bot: "b1", At: t0.Add(sec)}))),
			act: at(3*sec, resetDone("b1", 2, "")), same: true},
		{name: "reset done when none runs: unchanged", setup: twoUp, act: at(3*sec, resetDone("b1", 0, "")), same: true},

		// bot/FAILED
		{name: "failed: out of rotation, reset scheduled", setup: twoUp, act: at(sec, failed("b1", "operator")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b1")
				assert.Equal(t, reducers.Failed, b.Phase)
				assert.False(t, b.Available)
				assert.Equal(t, "operator", b.Reason)
				assert.Equal(t, seq, b.FlipBy)
				assert.Equal(t, t0.Add(2*sec), b.ResetAt)
			}},
		{name: "failed again: unchanged", setup: with(twoUp, at(0, failed("b1", "x"))), act: at(sec, failed("b1", "y")), same: true},

		// send/REQUESTED
		{name: "requested: routed by round robin, marked for the send epic", setup: twoUp, act: at(sec, requested("s1", "alice")),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				sd := w.send("s1")
				assert.Equal(t, "b1", sd.Bot)
				assert.Equal(t, 1, sd.Attempt)
				assert.Equal(t, seq, sd.RoutedBy)
				assert.Equal(t, t0.Add(sec), sd.Since)
				assert.Equal(t, 1, w.s.Cursor)
			}},
		{name: "requested again with the same ID: unchanged", setup: with(twoUp, at(0, requested("s1", "alice"))),
			act: at(sec, requested("s1", "bob")), same: true},
		{name: "requested without an ID: unchanged", setup: twoUp, act: at(sec, requested("", "bob")), same: true},
		{name: "requested, no bot: ends at once", setup: []step{at(0, added("b1"))}, act: at(sec, requested("s1", "alice")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				sd := w.send("s1")
				assert.Equal(t, actions.NoBot, sd.Outcome)
				assert.Zero(t, sd.RoutedBy)
			}},

		// send/RESULT
		{name: "result delivered: ends, counts", setup: with(twoUp, at(0, requested("s1", "alice"))),
			act: at(sec, result("s1", "b1", 1, actions.Delivered)),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, actions.Delivered, w.send("s1").Outcome)
				sent, _ := w.s.Sent.Get("b1")
				assert.Equal(t, 1, sent)
				assert.Equal(t, 1, w.s.Delivered)
			}},
		{name: "result not sent: the next bot", setup: with(twoUp, at(0, requested("s1", "alice"))),
			act: at(sec, result("s1", "b1", 1, actions.NotSent)),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				sd := w.send("s1")
				assert.Equal(t, "b2", sd.Bot)
				assert.Equal(t, 2, sd.Attempt)
				assert.Equal(t, seq, sd.RoutedBy)
				assert.Equal(t, []string{"b1"}, sd.Tried)
				assert.Equal(t, 1, w.s.Failovers)
				assert.Equal(t, 1, w.bot("b1").Failures)
			}},
		{name: "result permanent: ends, the bot's rooms listed again", setup: with(twoUp, at(0, requested("s1", "r1"))),
			act: at(sec, result("s1", "b1", 1, actions.Permanent)),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.Equal(t, actions.Permanent, w.send("s1").Outcome)
				assert.Equal(t, seq, w.bot("b1").RoomsBy)
				assert.Zero(t, w.bot("b1").Failures, "not the bot's failure")
			}},
		{name: "result unknown: ends, counted against the bot", setup: with(twoUp, at(0, requested("s1", "alice"))),
			act: at(sec, result("s1", "b1", 1, actions.Unknown)),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, actions.Unknown, w.send("s1").Outcome)
				assert.Equal(t, 1, w.bot("b1").Failures)
			}},
		{name: "result of an old attempt: only the bot's record", setup: with(twoUp, at(0, requested("s1", "alice")),
			at(0, result("s1", "b1", 1, actions.NotSent))),
			act: at(sec, result("s1", "b1", 1, actions.Delivered)),
			check: func(t *testing.T, w *world, before reducers.Pool, _ uint64) {
				old, _ := before.Sends.Get("s1")
				assert.Equal(t, *old, w.send("s1"))
				assert.Zero(t, w.bot("b1").Failures)
			}},

		// send/RETRY, send/CANCELED, send/COLLECTED
		{name: "retry of a send that does not wait: unchanged", setup: with(twoUp, at(0, requested("s1", "alice"))),
			act: at(sec, retry("s1")), same: true},
		{name: "canceled in flight: marked", setup: with(twoUp, at(0, requested("s1", "alice"))), act: at(sec, canceled("s1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				sd := w.send("s1")
				assert.True(t, sd.Canceled)
				assert.Equal(t, actions.Pending, sd.Outcome)
			}},
		{name: "canceled, unknown send: unchanged", setup: twoUp, act: at(sec, canceled("s9")), same: true},
		{name: "collected after the end: forgotten", setup: with(twoUp, at(0, requested("s1", "alice")),
			at(0, result("s1", "b1", 1, actions.Delivered))), act: at(sec, collected("s1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.False(t, w.s.Sends.Has("s1"))
			}},
		{name: "collected in flight: an orphan", setup: with(twoUp, at(0, requested("s1", "alice"))), act: at(sec, collected("s1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				sd := w.send("s1")
				assert.True(t, sd.Orphan && sd.Canceled)
			}},
		{name: "collected, unknown send: unchanged", setup: twoUp, act: at(sec, collected("s9")), same: true},

		// inbox/ACCEPTED
		{name: "accepted: counted", setup: twoUp, act: at(sec, actions.MessageAccepted.New(actions.MessagePayload{MessageID: "m1"})),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, 1, w.s.Accepted)
			}},

		// Actions the pool reducer does not change anything for.
		{name: "init: silence counts from the start", setup: twoUp, act: at(sec, actions.Init.New(actions.Empty{})),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.Equal(t, t0.Add(sec), w.bot("b1").LastSeen)
			}},
		{name: "ding report", setup: twoUp, act: at(sec, actions.Ding.New(actions.DingPayload{Bot: "b1", Attempt: 1})), same: true},
		{name: "recovered notice", setup: twoUp, act: at(sec, actions.BotRecovered.New(actions.BotPayload{Bot: "b1"})), same: true},
		{name: "pool notices", setup: twoUp, act: at(sec, actions.PoolFailed.New(actions.Empty{})), same: true},
		{name: "epic failed", setup: twoUp, act: at(sec, actions.EpicFailed.New(actions.EpicFailedPayload{Epic: "x"})), same: true},
	}
	runReduceCases(t, exact(), tests)
}

// TestBotFailedFromOutsideLeavesScansAndLogoutsAlone: bot/FAILED is both an
// operator's command and the health epic's notice (Decided) of a flip the
// reducer made. A notice must not change the bot again: a scanning bot must not
// be reset (it would restart the login a human is completing), and a
// logged-out bot is failed for its silence, not at once.
func TestBotFailedFromOutsideLeavesScansAndLogoutsAlone(t *testing.T) {
	for _, tt := range []struct {
		name string
		why  actions.Action
	}{
		{"scan", scan("b1")},
		{"logout", logout("b1")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, exact())
			for _, st := range twoUp {
				w.at(st.at, st.a)
			}
			w.at(10*time.Second, tt.why)
			b := w.bot("b1")
			require.Equal(t, w.seq, b.FlipBy)
			before := w.s
			// The notice the health epic emits for that flip.
			w.do(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: b.Reason, Decided: true}))
			assert.True(t, w.s == before, "the notice changed the pool: %s is now %v, reset at %v", "b1", w.bot("b1").Phase, w.bot("b1").ResetAt)
		})
	}
}

// TestReplaced: time travel leaves the pool as it was (the world outside
// cannot be jumped), mounted alone or as a field of an application's
// state; a Replaced without the previous pool rebuilds the new one.
func TestReplaced(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	w.at(time.Second, requested("s1", "alice"))
	live := w.s
	jump := actions.Replaced.New(actions.ReplacedPayload{Prev: live})
	jump.Meta.Time, jump.Meta.Seq = t0.Add(2*time.Second), 100
	assert.True(t, w.r(reducers.Pool{}, jump) == live, "the pool before the jump")

	// A state from JSON (DevTools) whose derived fields are missing.
	var stale reducers.Pool
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, live)), &stale))
	stale.Avail, stale.Deadlines, stale.Available = reducers.Table[bool]{}, reducers.Deadlines{}, 0
	jump.Payload = actions.ReplacedPayload{Prev: "not a pool"}
	got := w.r(stale, jump)
	require.NoError(t, checkPool(w.cfg, got))
	assert.Equal(t, 2, got.Available)

	// Mounted in an application's state.
	type app struct {
		Pool  reducers.Pool
		Count int
	}
	red := reducers.Combine(
		reducers.Field(func(s app) reducers.Pool { return s.Pool }, func(s *app, p reducers.Pool) { s.Pool = p }, w.cfg.Reducer()),
		reducers.Field(func(s app) int { return s.Count }, func(s *app, n int) { s.Count = n },
			reducers.On(actions.MessageAccepted, func(n int, _ actions.MessagePayload, _ actions.Meta) int { return n + 1 })))
	now := app{Pool: live, Count: 7}
	old := app{Pool: reducers.Pool{}, Count: 1} // a state from before the pool had bots
	jump.Payload = actions.ReplacedPayload{Prev: now}
	after := red(old, jump)
	assert.Equal(t, 1, after.Count, "the application's own field jumps")
	assert.True(t, after.Pool == live, "the pool's field stays as it was")
}

// TestBackoffDelay pins the arithmetic of the reset backoff.
func TestBackoffDelay(t *testing.T) {
	b := reducers.DefaultBackoff
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{0, 0.5, time.Second}, // attempts start at 1
		{1, 0.5, time.Second},
		{2, 0.5, 1600 * time.Millisecond},
		{3, 0.5, 2560 * time.Millisecond},
		{1, 0, 800 * time.Millisecond},  // -20 %
		{1, 1, 1200 * time.Millisecond}, // +20 % (r < 1 in use)
		{11, 0.5, 109951162777},         // 1.6^10 s
		{12, 0.5, 120 * time.Second},    // capped
		{12, 0.99, 120 * time.Second},   // capped after jitter
		{12, 0, 96 * time.Second},       // jitter below the cap
		{1000, 0.5, 120 * time.Second},
	}
	for _, tt := range tests {
		got := b.Delay(tt.attempt, tt.r)
		if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
	assert.Equal(t, time.Duration(0), reducers.Backoff{Initial: time.Second, Factor: 1, Jitter: 0.5, Max: time.Second}.Delay(1, -1), "never negative")
}

// TestJitter: the jitter of the first ding is a pure function of the seed,
// the bot and the time, stays within DingAfter ± 1/6, spreads the bots,
// and changes with the seed.
func TestJitter(t *testing.T) {
	cfg := reducers.Config{}.Defaults()
	lo, hi := cfg.DingAfter-cfg.DingAfter/6, cfg.DingAfter+cfg.DingAfter/6
	first := func(seed uint64, bot string) time.Duration {
		c := cfg
		c.Seed = seed
		a := added(bot)
		a.Meta.Time, a.Meta.Seq = t0, 1
		s := c.Reducer()(reducers.Pool{}, a)
		b, _ := s.Bots.Get(bot)
		return b.Due.Sub(t0)
	}
	distinct := map[time.Duration]bool{}
	var sum float64
	const n = 2000
	same := 0
	for i := range n {
		bot := fmt.Sprintf("bot-%d", i)
		d := first(0, bot)
		if d < lo || d >= hi {
			t.Fatalf("%s: first ding after %v, want in [%v, %v)", bot, d, lo, hi)
		}
		if d != first(0, bot) {
			t.Fatalf("%s: not reproducible", bot)
		}
		if d == first(1, bot) {
			same++
		}
		distinct[d] = true
		sum += float64(d)
	}
	assert.Greater(t, len(distinct), n*9/10, "bots are spread")
	assert.Less(t, same, 5, "another seed gives other times")
	mean := time.Duration(sum / n)
	assert.InDelta(t, float64(cfg.DingAfter), float64(mean), float64(time.Second), "centered on DingAfter")

	for _, tt := range []struct {
		seed uint64
		key  string
		t    time.Time
	}{{0, "", time.Time{}}, {1, "b1", t0}, {math.MaxUint64, "bot-with-a-long-name", t0.Add(time.Hour)}} {
		u := reducers.Unit(tt.seed, tt.key, tt.t, 1)
		assert.True(t, u >= 0 && u < 1, "unit %v", u)
	}
	assert.Equal(t, 60*time.Second, reducers.Jittered(60*time.Second, 1.0/6, 0.5))
	assert.Equal(t, 50*time.Second, reducers.Jittered(60*time.Second, 1.0/6, 0))
}

func TestConfigValidate(t *testing.T) {
	ok := reducers.Config{}.Defaults()
	require.NoError(t, ok.Validate())
	require.NoError(t, exact().Validate())
	for _, tt := range []struct {
		name string
		f    func(c *reducers.Config)
	}{
		{"negative duration", func(c *reducers.Config) { c.FailAfter = -1 }},
		{"ding after fail", func(c *reducers.Config) { c.DingAfter = c.FailAfter }},
		{"no ding period", func(c *reducers.Config) { c.DingEvery = 0 }},
		{"no send timeout", func(c *reducers.Config) { c.SendTimeout = 0 }},
		{"jitter 1", func(c *reducers.Config) { c.DingJitter = 1 }},
		{"jitter NaN", func(c *reducers.Config) { c.DingJitter = math.NaN() }},
		{"scan shorter than fail", func(c *reducers.Config) { c.ScanTimeout = time.Second }},
		{"backoff factor", func(c *reducers.Config) { c.Backoff.Factor = 0.5 }},
		{"backoff infinite", func(c *reducers.Config) { c.Backoff.Factor = math.Inf(1) }},
		{"backoff max", func(c *reducers.Config) { c.Backoff.Max = c.Backoff.Initial / 2 }},
		{"eject negative", func(c *reducers.Config) { c.EjectAfter = -1 }},
		{"dedupe size", func(c *reducers.Config) { c.DedupeSize = 1 }},
	} {
		c := ok
		tt.f(&c)
		assert.Error(t, c.Validate(), tt.name)
	}
}

// TestPoolJSONRoundTrip: a pool handed over as JSON (DevTools, a standby
// process) is the same pool: the same JSON, derived fields rebuilt, and
// the same decisions on the next actions (round robin resumes at the same
// bot although the positions freed by removed bots are not in the JSON).
func TestPoolJSONRoundTrip(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range []step{
		at(0, added("b1")), at(0, added("b2")), at(0, added("b3")), at(0, added("b4")),
		at(0, login("b2")), at(0, login("b3")), at(0, login("b4")),
		at(0, removed("b1")), at(0, rooms("b3", "r1")), at(0, message("b2", "m1", "carol", "")),
		at(0, requested("s1", "alice")), at(time.Second, failed("b4", "x")),
	} {
		w.at(st.at, st.a)
	}
	data := mustJSON(t, w.s)
	var back reducers.Pool
	require.NoError(t, json.Unmarshal([]byte(data), &back))
	assert.Equal(t, data, mustJSON(t, back))
	require.NoError(t, checkPool(w.cfg, back))
	assert.Equal(t, deadlines(w.s.Deadlines), deadlines(back.Deadlines))

	next := []actions.Action{requested("s2", "alice"), requested("s3", "alice"), requested("s4", "r1"),
		actions.Due.New(actions.DuePayload{Bot: "b4", At: t0.Add(2 * time.Second)})}
	a, b := w.s, back
	for i, x := range next {
		x.Meta.Time, x.Meta.Seq = t0.Add(2*time.Second), uint64(100+i)
		a, b = w.r(a, x), w.r(b, x)
		assert.Equal(t, mustJSON(t, a), mustJSON(t, b), "after %s", x)
	}

	for _, bad := range []string{`{"bots":{"x":null}}`, `{"bots":{"x":{"id":"y"}}}`, `{"sends":{"s":null}}`, `{"bots":[]}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), bad)
	}
}

// TestPoolBranchKeepsBotsAndAvailInStep: after time travel the reducer runs
// on an old state; Bots and Avail must still agree on every bot's position,
// which round robin and rooms rely on.
func TestPoolBranchKeepsBotsAndAvailInStep(t *testing.T) {
	w := newWorld(t, exact())
	for _, a := range []actions.Action{added("a"), added("b"), removed("a")} {
		w.do(a)
	}
	s := w.s
	// Change Bots only, then go back to s: Bots is now a branch, Avail not.
	w.do(heartbeat("b"))
	w.do(login("b"))
	w.s = s
	w.do(added("a"))
	assert.Equal(t, w.s.Bots.Keys(), w.s.Avail.Keys())
	for _, id := range w.s.Bots.Keys() {
		assert.Equal(t, w.s.Bots.Position(id), w.s.Avail.Position(id), id)
	}
}

// TestResetDoneOfAnEarlierResetIsIgnored: a reset that outlived a login and
// a new failure does not end the new reset of the same attempt number.
func TestResetDoneOfAnEarlierResetIsIgnored(t *testing.T) {
	w := newWorld(t, exact())
	var b reducers.Bot
	due := func() uint64 {
		b = w.bot("b1")
		w.do(actions.Due.New(actions.DuePayload{Bot: "b1", At: b.Due}))
		return w.seq
	}
	w.at(0, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}))
	w.at(0, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "me"}))
	w.at(time.Second, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "operator"}))
	w.now = w.bot("b1").ResetAt.Sub(t0)
	first := due()
	require.True(t, w.bot("b1").Resetting)
	require.Equal(t, first, w.bot("b1").ResetBy)
	w.do(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "me"}))
	w.do(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "operator again"}))
	w.now = w.bot("b1").ResetAt.Sub(t0)
	second := due()
	require.True(t, w.bot("b1").Resetting)
	require.Equal(t, 1, w.bot("b1").Reset)
	before := w.s
	w.do(actions.ResetDone.New(actions.ResetPayload{Bot: "b1", Attempt: 1, Decision: first}))
	assert.True(t, w.s == before, "the first reset's end changed the second")
	w.do(actions.ResetDone.New(actions.ResetPayload{Bot: "b1", Attempt: 1, Decision: second}))
	assert.False(t, w.bot("b1").Resetting)
}
