package selectors_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func reduce(s reducers.Pool, as ...actions.Action) reducers.Pool {
	for i, a := range as {
		a.Meta.Time = t0.Add(time.Duration(i) * time.Second)
		s = reducers.PoolReducer(s, a)
	}
	return s
}

func pool(n int) reducers.Pool {
	var s reducers.Pool
	for i := range n {
		id := fmt.Sprintf("b%d", i)
		s = reduce(s, actions.BotAdded.New(actions.BotAddedPayload{Bot: id, Puppet: "mock"}),
			actions.Login.New(actions.LoginPayload{Bot: id, Self: "self-" + id}))
	}
	return s
}

func route(s reducers.Pool, bot string) reducers.Pool {
	return reduce(s, actions.SendRouted.New(actions.RoutePayload{ID: "x", Bot: bot, Attempt: 1}))
}

func TestNextBotRoundRobin(t *testing.T) {
	s := pool(3)
	var got []string
	for range 5 {
		id, ok := selectors.NextBot(s, "alice", nil)
		require.True(t, ok)
		got = append(got, id)
		s = route(s, id)
	}
	assert.Equal(t, []string{"b0", "b1", "b2", "b0", "b1"}, got)

	s = reduce(s, actions.BotFailed.New(actions.ReasonPayload{Bot: "b2", Reason: "silent"}))
	got = nil
	for range 4 {
		id, _ := selectors.NextBot(s, "alice", nil)
		got = append(got, id)
		s = route(s, id)
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
		id, ok := selectors.NextBot(s, "room", nil)
		require.True(t, ok)
		got = append(got, id)
		s = route(s, id)
	}
	assert.Equal(t, []string{"b1", "b3", "b1", "b3"}, got)
	s = reduce(s, actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}),
		actions.Logout.New(actions.ReasonPayload{Bot: "b3", Reason: "kicked"}))
	_, ok := selectors.NextBot(s, "room", nil)
	assert.False(t, ok, "no member available: no bot, even though b0 and b2 are up")
}

func TestAffinityMovesOnlyWhenItsBotFails(t *testing.T) {
	s := pool(5)
	convs := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}
	before := map[string]string{}
	for _, c := range convs {
		id, ok := selectors.AffinityBot(s, c, nil)
		require.True(t, ok)
		again, _ := selectors.AffinityBot(s, c, nil)
		require.Equal(t, id, again, "stable")
		before[c] = id
	}
	victim := before["c1"]
	s = reduce(s, actions.BotFailed.New(actions.ReasonPayload{Bot: victim, Reason: "x"}))
	for _, c := range convs {
		id, _ := selectors.AffinityBot(s, c, nil)
		if before[c] == victim {
			assert.NotEqual(t, victim, id, "%s moved off the failed bot", c)
		} else {
			assert.Equal(t, before[c], id, "%s did not move", c)
		}
	}
}

func TestPoolHealthIsCachedAcrossMessages(t *testing.T) {
	s := pool(3)
	h := selectors.PoolHealth.Select(s)
	assert.Equal(t, selectors.Health{Total: 3, Available: 3, Failed: []string{}}, h)
	n := selectors.PoolHealth.Recomputations()
	for range 10 {
		s = reduce(s, actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m", Text: "hi"}))
		selectors.PoolHealth.Select(s)
	}
	assert.Equal(t, n, selectors.PoolHealth.Recomputations(), "messages do not invalidate health")
	s = reduce(s, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "x"}))
	h = selectors.PoolHealth.Select(s)
	assert.Equal(t, []string{"b1"}, h.Failed)
	assert.Equal(t, 2, h.Available)
}

// BenchmarkNextBot chooses the next bot at 10,000 bots (issue #4 target:
// at most 100 ns).
func BenchmarkNextBot(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			s := pool(n)
			// Every third bot is down, so the scan sometimes steps over one.
			for i := 0; i < n; i += 3 {
				s = reduce(s, actions.BotFailed.New(actions.ReasonPayload{Bot: fmt.Sprintf("b%d", i), Reason: "x"}))
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
