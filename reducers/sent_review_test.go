package reducers_test

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/samber/lo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review of Pool.Sent, the delivered count of the bots this process
// drives, kept apart from their records.

// sentOf returns the table as a map, 0-counts absent (Sent has a count
// for every bot of the pool, 0 until it delivers).
func sentOf(s reducers.Pool) map[string]int {
	return lo.OmitByValues(maps.Collect(s.Sent.All()), []int{0})
}

// sentOnlyOfBots checks that Sent names no bot the pool does not hold.
func sentOnlyOfBots(t *testing.T, s reducers.Pool) {
	t.Helper()
	for id := range s.Sent.All() {
		assert.True(t, s.Bots.Has(id), "Sent counts %q, not in the pool", id)
	}
}

func resultGone(id, bot string, attempt int, o actions.Outcome) actions.Action {
	return actions.SendResult.New(actions.SendResultPayload{ID: id, Bot: bot, Attempt: attempt, Outcome: o, CallerGone: true})
}

// TestReviewSentThroughFailovers: a send that fails over counts for the
// bot that delivered it only; a delivery resets the bot's failures; a
// delivery whose caller left still counts; other outcomes do not; older
// versions of the pool keep their counts (the counter is changed in
// place in the newest version only); a delivery on a bot without
// failures leaves the bots' table as it was.
func TestReviewSentThroughFailovers(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	w.at(time.Second, requested("s1", "alice"))
	first := w.send("s1")
	require.NotEmpty(t, first.Bot)
	w.at(time.Second, result("s1", first.Bot, first.Attempt, actions.NotSent))
	second := w.send("s1")
	require.NotEqual(t, first.Bot, second.Bot, "failed over")
	x, y := first.Bot, second.Bot
	w.at(time.Second, result("s1", y, second.Attempt, actions.Delivered))
	assert.Equal(t, map[string]int{y: 1}, sentOf(w.s))
	assert.Equal(t, 1, w.bot(x).Failures)
	assert.Equal(t, 1, w.s.Delivered)

	// A result is the truth about the bot whatever became of the send: a
	// delivery by x (of a send no longer current) counts and resets x's
	// failures.
	w.at(time.Second, result("old", x, 1, actions.Delivered))
	assert.Equal(t, map[string]int{x: 1, y: 1}, sentOf(w.s))
	assert.Zero(t, w.bot(x).Failures)

	// A delivery on a bot without failures: one counter, no bot record.
	mid := w.s
	midJSON := mustJSON(t, mid)
	w.at(time.Second, result("old", y, 1, actions.Delivered))
	assert.True(t, w.s.Bots == mid.Bots, "the bots' table is the same value")
	assert.Equal(t, map[string]int{x: 1, y: 2}, sentOf(w.s))
	w.at(time.Second, resultGone("old", y, 1, actions.Delivered))
	assert.Equal(t, map[string]int{x: 1, y: 3}, sentOf(w.s), "the caller left: delivered all the same")
	for _, o := range []actions.Outcome{actions.NotSent, actions.Unknown, actions.Permanent, actions.Unreachable} {
		w.at(time.Second, result("old", y, 1, o))
	}
	w.at(time.Second, resultGone("old", x, 1, actions.NotSent))
	assert.Equal(t, map[string]int{x: 1, y: 3}, sentOf(w.s), "only deliveries count")
	assert.Equal(t, 2, w.bot(y).Failures, "NotSent and Unknown")
	assert.Zero(t, w.bot(x).Failures, "a caller gone: not the bot's failure")

	// The version before is as it was, and a branch from it (time travel)
	// counts on its own.
	assert.Equal(t, midJSON, mustJSON(t, mid))
	assert.Equal(t, map[string]int{x: 1, y: 1}, sentOf(mid))
	a := result("old", y, 1, actions.Delivered)
	a.Meta.Time, a.Meta.Seq = t0.Add(2*time.Second), w.seq+1
	branch := w.r(mid, a)
	assert.Equal(t, map[string]int{x: 1, y: 2}, sentOf(branch))
	assert.Equal(t, map[string]int{x: 1, y: 3}, sentOf(w.s), "the newest version is untouched by the branch")
	assert.Equal(t, map[string]int{x: 1, y: 1}, sentOf(mid))
	require.NoError(t, checkPool(w.cfg, branch))
	sentOnlyOfBots(t, w.s)
}

// TestReviewSentEjectAfter: failed sends still eject a bot after
// EjectAfter, and the deliveries before stay counted.
func TestReviewSentEjectAfter(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	w.at(time.Second, result("old", "b1", 1, actions.Delivered))
	for range w.cfg.EjectAfter {
		w.at(time.Second, result("old", "b1", 1, actions.NotSent))
	}
	assert.False(t, w.bot("b1").Available)
	assert.Equal(t, 1, w.s.Available)
	assert.Equal(t, map[string]int{"b1": 1}, sentOf(w.s))
}

// TestReviewSentForgottenWithTheBot: a removed bot's count goes with it;
// added again, it counts from 0.
func TestReviewSentForgottenWithTheBot(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	for range 3 {
		w.at(time.Second, result("old", "b1", 1, actions.Delivered))
	}
	w.at(time.Second, result("old", "b2", 1, actions.Delivered))
	w.at(2*time.Second, removed("b1"))
	assert.Equal(t, map[string]int{"b2": 1}, sentOf(w.s))
	sentOnlyOfBots(t, w.s)
	w.at(2*time.Second, result("old", "b1", 1, actions.Delivered))
	assert.Equal(t, map[string]int{"b2": 1}, sentOf(w.s), "a result for a bot no longer in the pool counts nothing")
	w.at(3*time.Second, added("b1"))
	w.at(3*time.Second, login("b1"))
	n, has := w.s.Sent.Get("b1")
	assert.True(t, has, "added again: a count")
	assert.Zero(t, n, "added again: counted from 0")
	w.at(3*time.Second, result("old", "b1", 1, actions.Delivered))
	assert.Equal(t, map[string]int{"b1": 1, "b2": 1}, sentOf(w.s))
	sentOnlyOfBots(t, w.s)
}

// TestReviewSentJSONRoundTrip: the counts survive MarshalJSON and
// UnmarshalJSON (as DevTools and a hand-over send them), after a bot was
// removed, and the decoded pool counts on as the original does.
func TestReviewSentJSONRoundTrip(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range []step{at(0, added("b0")), at(0, login("b0"))} {
		w.at(st.at, st.a)
	}
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	w.at(time.Second, result("old", "b0", 1, actions.Delivered))
	w.at(time.Second, result("old", "b2", 1, actions.Delivered))
	w.at(time.Second, result("old", "b2", 1, actions.Delivered))
	w.at(time.Second, removed("b0"))
	data := mustJSON(t, w.s)
	var raw struct {
		Sent map[string]int `json:"sent"`
	}
	require.NoError(t, json.Unmarshal([]byte(data), &raw))
	assert.Equal(t, map[string]int{"b1": 0, "b2": 2}, raw.Sent, "a count for every bot")
	var back reducers.Pool
	require.NoError(t, json.Unmarshal([]byte(data), &back))
	assert.Equal(t, sentOf(w.s), sentOf(back))
	require.NoError(t, checkPool(w.cfg, back))
	for i, a := range []actions.Action{result("old", "b1", 1, actions.Delivered), result("old", "b2", 1, actions.Delivered)} {
		a.Meta.Time, a.Meta.Seq = t0.Add(2*time.Second), w.seq+uint64(i)+1
		w.s, back = w.r(w.s, a), w.r(back, a)
	}
	assert.Equal(t, map[string]int{"b1": 1, "b2": 3}, sentOf(back))
	assert.Equal(t, mustJSON(t, w.s), mustJSON(t, back))
}

// TestReviewSentInACluster: n1 counts the deliveries of the bot it drives
// only; a result about a bot another node drives changes no count (nor,
// for a delivery, the bot's record), and neither does the owner's
// snapshot; a bot whose lease went elsewhere is counted here no more.
func TestReviewSentInACluster(t *testing.T) {
	w := newWorld(t, clustered())
	for _, st := range split {
		w.at(st.at, st.a)
	}
	w.at(time.Second, result("old", "b1", 1, actions.Delivered))
	before := w.s
	w.at(time.Second, result("old", "b2", 1, actions.Delivered))
	assert.True(t, w.s == before, "a delivery by n2's bot: nothing here")
	w.at(time.Second, result("old", "b2", 1, actions.NotSent))
	assert.Zero(t, w.bot("b2").Failures, "its owner counts its failures")
	assert.Equal(t, map[string]int{"b1": 1}, sentOf(w.s))

	// n2's snapshot carries its own counts: not this process's.
	snap := reducers.Pool{}
	for _, a := range []actions.Action{added("b1"), added("b2"), owned("b2", "n2", 5), login("b2"),
		result("old", "b2", 1, actions.Delivered)} {
		a.Meta.Time = t0
		snap = reducers.Config{Node: "n2"}.Defaults().Reducer()(snap, a)
	}
	require.Equal(t, map[string]int{"b2": 1}, sentOf(snap))
	data, err := json.Marshal(snap)
	require.NoError(t, err)
	w.at(2*time.Second, from("n2", 5, actions.Snapshot.New(actions.SnapshotPayload{State: data})))
	assert.Equal(t, map[string]int{"b1": 1}, sentOf(w.s))

	// b1's lease goes to n2: n1 counts it no more.
	w.at(3*time.Second, from("n2", 7, owned("b1", "n2", 7)))
	w.at(3*time.Second, result("old", "b1", 1, actions.Delivered))
	assert.Equal(t, map[string]int{"b1": 1}, sentOf(w.s))
}

// TestReviewSentSurvivesTimeTravel: a jump (actions.Replaced) leaves the
// pool, its counts included, as it was; a state from JSON whose Prev is
// not a pool keeps the counts it holds.
func TestReviewSentSurvivesTimeTravel(t *testing.T) {
	w := newWorld(t, exact())
	for _, st := range twoUp {
		w.at(st.at, st.a)
	}
	early := w.s
	w.at(time.Second, result("old", "b1", 1, actions.Delivered))
	w.at(time.Second, result("old", "b1", 1, actions.Delivered))
	live := w.s
	jump := actions.Replaced.New(actions.ReplacedPayload{Prev: live})
	jump.Meta.Time, jump.Meta.Seq = t0.Add(2*time.Second), w.seq+1
	after := w.r(early, jump)
	assert.True(t, after == live)
	assert.Equal(t, map[string]int{"b1": 2}, sentOf(after))
	// Counting goes on after the jump, from the live count.
	a := result("old", "b1", 1, actions.Delivered)
	a.Meta.Time, a.Meta.Seq = t0.Add(2*time.Second), w.seq+2
	assert.Equal(t, map[string]int{"b1": 3}, sentOf(w.r(after, a)))

	var fromJSON reducers.Pool
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, live)), &fromJSON))
	jump.Payload = actions.ReplacedPayload{Prev: "not a pool"}
	got := w.r(fromJSON, jump)
	require.NoError(t, checkPool(w.cfg, got))
	assert.Equal(t, map[string]int{"b1": 2}, sentOf(got))
}
