package reducers_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(sec int, a actions.Action) actions.Action {
	a.Meta.Time = t0.Add(time.Duration(sec) * time.Second)
	return a
}

func TestPoolReducerLifecycle(t *testing.T) {
	steps := []struct {
		name  string
		a     actions.Action
		check func(t *testing.T, s reducers.Pool)
	}{
		{"added bots start unavailable", actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1", Puppet: "mock"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.False(t, b.Available)
			assert.Equal(t, 0, s.Available)
		}},
		{"login makes it available", actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "me"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.True(t, b.Available)
			assert.Equal(t, "me", b.Self)
			assert.Equal(t, 1, s.Available)
		}},
		{"ding counts", actions.Ding.New(actions.DingPayload{Bot: "b1", Attempt: 1}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.Equal(t, 1, b.Dings)
		}},
		{"failed sends count", actions.SendResult.New(actions.SendResultPayload{ID: "s", Bot: "b1", Outcome: reducers.OutcomeNotSent}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.Equal(t, 1, b.Failures)
		}},
		{"failure", actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "silent"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.False(t, b.Available)
			assert.Equal(t, "silent", b.Reason)
			assert.Equal(t, t0.Add(4*time.Second), b.FailedAt)
			assert.Equal(t, 0, s.Available)
		}},
		{"reset attempt recorded", actions.ResetStarted.New(actions.ResetPayload{Bot: "b1", Attempt: 2}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.Equal(t, 2, b.Resets)
		}},
		{"dong recovers and resets counters", actions.Dong.New(actions.BotPayload{Bot: "b1"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.True(t, b.Available)
			assert.Equal(t, 0, b.Resets)
			assert.Equal(t, 0, b.Failures)
			assert.Equal(t, 0, b.Dings)
			assert.Equal(t, t0.Add(6*time.Second), b.LastSeen)
		}},
		{"logout", actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.False(t, b.LoggedIn)
			assert.False(t, b.Available)
		}},
		{"dong while logged out does not make it available", actions.Dong.New(actions.BotPayload{Bot: "b1"}), func(t *testing.T, s reducers.Pool) {
			b, _ := s.Bots.Get("b1")
			assert.False(t, b.Available)
		}},
		{"removal", actions.BotRemoved.New(actions.BotPayload{Bot: "b1"}), func(t *testing.T, s reducers.Pool) {
			assert.Equal(t, 0, s.Bots.Len())
			assert.Equal(t, 0, s.Avail.Len())
		}},
	}
	var s reducers.Pool
	for i, st := range steps {
		s = reducers.PoolReducer(s, at(i, st.a))
		st.check(t, s)
		if t.Failed() {
			t.Fatalf("step %d %q", i, st.name)
		}
	}
}

func TestPoolReducerIgnoresUnknownAndUnknownBots(t *testing.T) {
	var s reducers.Pool
	s = reducers.PoolReducer(s, at(0, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"})))
	for _, a := range []actions.Action{
		actions.Init.New(actions.Empty{}),
		actions.Login.New(actions.LoginPayload{Bot: "ghost"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: ""}),
		actions.Ding.New(actions.DingPayload{Bot: ""}),
	} {
		assert.True(t, s == reducers.PoolReducer(s, at(1, a)), "%s: same value", a.Type)
	}
}

func TestPoolJSONRoundTripRebuildsAvail(t *testing.T) {
	var s reducers.Pool
	for i, a := range []actions.Action{
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b2"}),
		actions.Login.New(actions.LoginPayload{Bot: "b2"}),
		actions.RoomsLearned.New(actions.RoomsPayload{Bot: "b2", Rooms: []string{"r"}}),
	} {
		s = reducers.PoolReducer(s, at(i, a))
	}
	data, err := json.Marshal(s)
	require.NoError(t, err)
	var back reducers.Pool
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, 1, back.Available)
	up, _ := back.Avail.Get("b2")
	assert.True(t, up)
	assert.Equal(t, []string{"b1", "b2"}, back.Avail.Keys())
	members, _ := back.Rooms.Get("r")
	assert.Equal(t, []string{"b2"}, members)
	assert.Error(t, json.Unmarshal([]byte(`{"bots":{"x":null}}`), &back))
}

// TestPoolBranchKeepsBotsAndAvailInStep: after time travel the reducer runs
// on an old state; Bots and Avail must still agree on every bot's position,
// which round robin and rooms rely on.
func TestPoolBranchKeepsBotsAndAvailInStep(t *testing.T) {
	var s reducers.Pool
	for i, a := range []actions.Action{
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "a"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b"}),
		actions.BotRemoved.New(actions.BotPayload{Bot: "a"}),
	} {
		s = reducers.PoolReducer(s, at(i, a))
	}
	// Change Bots only, then go back to s: Bots is now a branch, Avail not.
	_ = reducers.PoolReducer(s, at(3, actions.Ding.New(actions.DingPayload{Bot: "b", Attempt: 1})))
	back := reducers.PoolReducer(s, at(4, actions.BotAdded.New(actions.BotAddedPayload{Bot: "a"})))
	assert.Equal(t, back.Bots.Keys(), back.Avail.Keys())
	for _, id := range back.Bots.Keys() {
		assert.Equal(t, back.Bots.Position(id), back.Avail.Position(id), id)
	}
}

// TestPoolJSONKeepsRoundRobin: a state sent back by DevTools resumes round
// robin at the same bot, although positions freed by removed bots are not
// part of the JSON.
func TestPoolJSONKeepsRoundRobin(t *testing.T) {
	var s reducers.Pool
	for i, a := range []actions.Action{
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b2"}),
		actions.BotAdded.New(actions.BotAddedPayload{Bot: "b3"}),
		actions.Login.New(actions.LoginPayload{Bot: "b2"}),
		actions.Login.New(actions.LoginPayload{Bot: "b3"}),
		actions.BotRemoved.New(actions.BotPayload{Bot: "b1"}),
		actions.SendRouted.New(actions.RoutePayload{ID: "m1", Bot: "b2", Attempt: 1}),
	} {
		s = reducers.PoolReducer(s, at(i, a))
	}
	next, ok := selectors.NextBot(s, "someone", nil)
	require.True(t, ok)
	require.Equal(t, "b3", next)

	data, err := json.Marshal(s)
	require.NoError(t, err)
	var back reducers.Pool
	require.NoError(t, json.Unmarshal(data, &back))
	got, ok := selectors.NextBot(back, "someone", nil)
	require.True(t, ok)
	assert.Equal(t, next, got, "round robin resumes at the same bot: %s", data)
}
