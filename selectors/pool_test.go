package selectors_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seq numbers the actions reduced by reduce, as a store does.
var seq uint64

// reduce reduces as, one second apart from t0, as a store would.
func reduce(s reducers.Pool, as ...actions.Action) reducers.Pool {
	for i, a := range as {
		seq++
		a.Meta.Time, a.Meta.Seq = t0.Add(time.Duration(i)*time.Second), seq
		s = reducers.PoolReducer(s, a)
	}
	return s
}

func addBot(s reducers.Pool, id string) reducers.Pool {
	return reduce(s, actions.BotAdded.New(actions.BotAddedPayload{Bot: id, Puppet: "mock"}),
		actions.Login.New(actions.LoginPayload{Bot: id, Self: "self-" + id}))
}

func pool(n int) reducers.Pool {
	var s reducers.Pool
	for i := range n {
		s = addBot(s, fmt.Sprintf("b%d", i))
	}
	return s
}

func fail(s reducers.Pool, bot string) reducers.Pool {
	return reduce(s, actions.BotFailed.New(actions.ReasonPayload{Bot: bot, Reason: "x"}))
}

// send asks the pool to send to target: the reducer routes it, and the
// test reads which bot it chose.
func send(t *testing.T, s reducers.Pool, target string) (reducers.Pool, string) {
	t.Helper()
	id := fmt.Sprintf("s%d", seq+1)
	s = reduce(s, actions.SendRequested.New(actions.SendPayload{ID: id, To: target, Text: "hi"}))
	sd, ok := s.Sends.Get(id)
	require.True(t, ok)
	return s, sd.Bot
}

// TestNextBotIsWhatTheReducerRoutes: NextBot predicts the bot of the next
// send, which the reducer then chooses, in exact round robin.
func TestNextBotIsWhatTheReducerRoutes(t *testing.T) {
	s := pool(3)
	var got []string
	for range 5 {
		want, ok := selectors.NextBot(s, "alice", nil)
		require.True(t, ok)
		var bot string
		s, bot = send(t, s, "alice")
		require.Equal(t, want, bot, "the reducer routes to the selector's choice")
		got = append(got, bot)
	}
	assert.Equal(t, []string{"b0", "b1", "b2", "b0", "b1"}, got)

	s = fail(s, "b2")
	got = nil
	for range 4 {
		var bot string
		s, bot = send(t, s, "alice")
		got = append(got, bot)
	}
	assert.Equal(t, []string{"b0", "b1", "b0", "b1"}, got, "a failed bot is skipped")

	id, ok := selectors.NextBot(s, "alice", func(b string) bool { return b != "b1" })
	assert.True(t, ok)
	assert.Equal(t, "b1", id, "exclusion")
	_, ok = selectors.NextBot(s, "alice", func(string) bool { return true })
	assert.False(t, ok)
	_, ok = selectors.NextBot(reducers.Pool{}, "alice", nil)
	assert.False(t, ok, "empty pool")
}

func TestNextBotOnlyRoomMembers(t *testing.T) {
	s := pool(4)
	s = reduce(s,
		actions.RoomsLearned.New(actions.RoomsPayload{Bot: "b1", Rooms: []string{"room"}}),
		actions.RoomsLearned.New(actions.RoomsPayload{Bot: "b3", Rooms: []string{"room"}}))
	var got []string
	for range 4 {
		want, ok := selectors.NextBot(s, "room", nil)
		require.True(t, ok)
		var bot string
		s, bot = send(t, s, "room")
		require.Equal(t, want, bot)
		got = append(got, bot)
	}
	assert.Equal(t, []string{"b1", "b3", "b1", "b3"}, got)
	s = reduce(s, actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}),
		actions.Logout.New(actions.ReasonPayload{Bot: "b3", Reason: "kicked"}))
	_, ok := selectors.NextBot(s, "room", nil)
	assert.False(t, ok, "no member available: no bot, even though b0 and b2 are up")
}

func TestAffinityMovesOnlyWhenItsBotFails(t *testing.T) {
	s := pool(5)
	convs := conversations(8)
	before := choices(t, s, convs)
	for c, id := range before {
		best := ""
		for b := range s.Bots.All() {
			if best == "" || reducers.Rendezvous(c, b) > reducers.Rendezvous(c, best) {
				best = b
			}
		}
		assert.Equal(t, best, id, "%s: the bot of the highest rendezvous score", c)
	}
	victim := before["c1"]
	s = fail(s, victim)
	for _, c := range convs {
		id, _ := selectors.AffinityBot(s, c, nil)
		if before[c] == victim {
			assert.NotEqual(t, victim, id, "%s moved off the failed bot", c)
		} else {
			assert.Equal(t, before[c], id, "%s did not move", c)
		}
	}
	_, ok := selectors.AffinityBot(reducers.Pool{}, "c1", nil)
	assert.False(t, ok)
}

func conversations(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", i+1)
	}
	return out
}

func choices(t *testing.T, s reducers.Pool, convs []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range convs {
		id, ok := selectors.AffinityBot(s, c, nil)
		require.True(t, ok)
		again, _ := selectors.AffinityBot(s, c, nil)
		require.Equal(t, id, again, "stable")
		out[c] = id
	}
	return out
}

// moves counts the conversations whose bot changed, and checks that each
// moved to one of allowed.
func moves(t *testing.T, before, after map[string]string, allowed ...string) int {
	t.Helper()
	n := 0
	for c, b := range before {
		if after[c] != b {
			n++
			if !slices.Contains(allowed, after[c]) {
				t.Errorf("%s moved from %s to %s, want only moves to %v", c, b, after[c], allowed)
			}
		}
	}
	return n
}

// TestAffinityStickiness measures how many of 200 conversations move.
// Rendezvous hashing moves a conversation only to a bot that scores
// higher on it than its own: so a bot that fails moves exactly its own
// conversations; a bot that is added, or recovers, takes the
// conversations it scores highest on (about 1/n of them) and no other
// conversation moves. A restart (a new pool from the same inputs, or a
// state handed over as JSON) moves none: the score has no per-process
// seed, and the order in which bots were added does not matter.
func TestAffinityStickiness(t *testing.T) {
	convs := conversations(200)
	s := pool(5)
	base := choices(t, s, convs)

	// A bot fails: its conversations, and only those, move.
	failedS := fail(s, "b2")
	own := 0
	for _, b := range base {
		if b == "b2" {
			own++
		}
	}
	onFail := moves(t, base, choices(t, failedS, convs), "b0", "b1", "b3", "b4")
	assert.Equal(t, own, onFail, "exactly the failed bot's conversations move")

	// It recovers: it takes back exactly what it had.
	recovered := reduce(failedS, actions.Dong.New(actions.BotPayload{Bot: "b2"}))
	afterRecovery := choices(t, recovered, convs)
	onRecover := moves(t, choices(t, failedS, convs), afterRecovery, "b2")
	assert.Equal(t, base, afterRecovery, "a recovered bot gets back its own conversations, no other")

	// A bot is added: the only moves are to it.
	grown := addBot(s, "b5")
	onAdd := moves(t, base, choices(t, grown, convs), "b5")
	assert.Positive(t, onAdd)
	assert.Less(t, onAdd, 200/3, "about 1/6 of the conversations go to the new bot")

	// A restart: the same bots, added in another order, in a new pool; and
	// the state handed over as JSON.
	var again reducers.Pool
	for _, id := range []string{"b4", "b3", "b2", "b1", "b0"} {
		again = addBot(again, id)
	}
	onRestart := moves(t, base, choices(t, again, convs))
	data, err := json.Marshal(s)
	require.NoError(t, err)
	var back reducers.Pool
	require.NoError(t, json.Unmarshal(data, &back))
	onHandover := moves(t, base, choices(t, back, convs))
	assert.Zero(t, onRestart+onHandover)

	t.Logf("of 200 conversations over 5 bots: %d move when a bot fails (its own), %d when it recovers (back to it), %d when a 6th bot is added (all to it), %d across a restart, %d across a JSON handover",
		onFail, onRecover, onAdd, onRestart, onHandover)
}

// TestAffinityIsRoutedByTheReducer: with Config.Affinity, the reducer routes
// a conversation to AffinityBot's choice, and after a "not sent" to the
// next best bot.
func TestAffinityIsRoutedByTheReducer(t *testing.T) {
	r := reducers.Config{Affinity: true, EjectAfter: 1000}.Defaults().Reducer() // no ejection: every bot stays
	var s reducers.Pool
	n := uint64(0)
	do := func(a actions.Action) {
		n++
		a.Meta.Time, a.Meta.Seq = t0, n
		s = r(s, a)
	}
	for i := range 4 {
		id := fmt.Sprintf("b%d", i)
		do(actions.BotAdded.New(actions.BotAddedPayload{Bot: id}))
		do(actions.Login.New(actions.LoginPayload{Bot: id, Self: id}))
	}
	for i, c := range conversations(20) {
		want, _ := selectors.AffinityBot(s, c, nil)
		id := fmt.Sprintf("s%d", i)
		do(actions.SendRequested.New(actions.SendPayload{ID: id, To: c}))
		sd, _ := s.Sends.Get(id)
		require.Equal(t, want, sd.Bot, c)
		second, _ := selectors.AffinityBot(s, c, func(b string) bool { return b == want })
		do(actions.SendResult.New(actions.SendResultPayload{ID: id, Bot: want, Attempt: 1, Outcome: actions.NotSent}))
		sd, _ = s.Sends.Get(id)
		require.Equal(t, second, sd.Bot, "%s: after not sent, the next best bot", c)
		do(actions.SendResult.New(actions.SendResultPayload{ID: id, Bot: second, Attempt: 2, Outcome: actions.Delivered}))
		do(actions.SendCollected.New(actions.SendIDPayload{ID: id}))
	}
}

func TestPoolHealthIsCachedAcrossMessages(t *testing.T) {
	s := pool(3)
	h := selectors.PoolHealth.Select(s)
	assert.Equal(t, selectors.Health{Total: 3, Available: 3, Failed: []string{}}, h)
	n := selectors.PoolHealth.Recomputations()
	for i := range 10 {
		s = reduce(s, actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: fmt.Sprint(i), Text: "hi"}),
			actions.Heartbeat.New(actions.BotPayload{Bot: "b0"}), actions.Dong.New(actions.BotPayload{Bot: "b2"}))
		s, _ = send(t, s, "alice")
		selectors.PoolHealth.Select(s)
	}
	assert.Equal(t, n, selectors.PoolHealth.Recomputations(), "messages, heartbeats, dongs and sends do not invalidate health")

	s = fail(s, "b1")
	h = selectors.PoolHealth.Select(s)
	assert.Equal(t, n+1, selectors.PoolHealth.Recomputations(), "a flip does")
	assert.Equal(t, selectors.Health{Total: 3, Available: 2, Failed: []string{"b1"}}, h)

	s = fail(fail(s, "b0"), "b2")
	h = selectors.PoolHealth.Select(s)
	assert.Equal(t, selectors.Health{Total: 3, Available: 0, Down: true, Failed: []string{"b0", "b1", "b2"}}, h)

	s = reduce(s, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b3"}))
	h = selectors.PoolHealth.Select(s)
	assert.Equal(t, 4, h.Total, "an added bot counts, unavailable until it logs in")
	assert.Equal(t, []string{"b0", "b1", "b2", "b3"}, h.Failed)
}

func TestNextDeadlineAndDueBots(t *testing.T) {
	_, ok := selectors.NextDeadline(reducers.Pool{})
	assert.False(t, ok, "no bots, no deadline")
	assert.Empty(t, selectors.DueBots(reducers.Pool{}, t0.Add(time.Hour)))

	s := pool(3) // b0 added at t0, b1 at t0+0s … each logged in a second later
	want := t0.Add(time.Hour)
	for _, b := range s.Bots.All() {
		want = minTime(want, b.Due)
	}
	next, ok := selectors.NextDeadline(s)
	require.True(t, ok)
	assert.True(t, want.Equal(next), "the earliest Due: %v, want %v", next, want)
	assert.Empty(t, selectors.DueBots(s, next.Add(-time.Nanosecond)))

	var dues []time.Time
	for _, b := range s.Bots.All() {
		dues = append(dues, b.Due)
	}
	slices.SortFunc(dues, func(a, b time.Time) int { return a.Compare(b) })
	due := selectors.DueBots(s, dues[1])
	assert.Len(t, due, 2, "the bots due by the second deadline, earliest first")
	for i, id := range due {
		b, _ := s.Bots.Get(id)
		assert.True(t, dues[i].Equal(b.Due))
	}
	assert.Len(t, selectors.DueBots(s, dues[2].Add(time.Hour)), 3)

	// A sign of life does not move the next deadline (Due stays early),
	// and the clock's bot/DUE then moves it to the real one.
	msg := actions.Message.New(actions.MessagePayload{Bot: due[0], MessageID: "m", From: "carol", Text: "hi"})
	msg.Meta.Time, msg.Meta.Seq = next.Add(-time.Second), 1000
	s2 := reducers.PoolReducer(s, msg)
	n2, _ := selectors.NextDeadline(s2)
	assert.True(t, next.Equal(n2), "lazy: a message leaves the deadline early")
	d := actions.Due.New(actions.DuePayload{Bot: due[0], At: next})
	d.Meta.Time, d.Meta.Seq = next, 1001
	s3 := reducers.PoolReducer(s2, d)
	b, _ := s3.Bots.Get(due[0])
	assert.True(t, b.Due.After(next), "the bot's deadline moved to its real one")
	assert.Equal(t, 0, b.Dings, "and no ding was sent: the bot spoke")
	n3, _ := selectors.NextDeadline(s3)
	assert.True(t, dues[1].Equal(n3))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// BenchmarkNextBot chooses the next bot at 10,000 bots (issue #4 target:
// at most 100 ns).
func BenchmarkNextBot(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			s := pool(n)
			// Every third bot is down, so the scan sometimes steps over one.
			for i := 0; i < n; i += 3 {
				s = fail(s, fmt.Sprintf("b%d", i))
			}
			b.ReportAllocs()
			for b.Loop() {
				id, ok := selectors.NextBot(s, "alice", nil)
				if !ok {
					b.Fatal("no bot")
				}
				s.Cursor = s.Avail.Position(id) + 1
			}
		})
	}
}

// BenchmarkNextDeadline finds the next deadline among 10,000 bots.
func BenchmarkNextDeadline(b *testing.B) {
	s := pool(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := selectors.NextDeadline(s); !ok {
			b.Fatal("no deadline")
		}
	}
}
