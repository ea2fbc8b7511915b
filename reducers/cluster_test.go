package reducers_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cluster's steps, seen by node n1: b1 is driven here (token 1), b2
// by node n2 (token 5), whose facts arrive from its feed.

func owned(bot, node string, token uint64) actions.Action {
	return actions.Owned.New(actions.OwnedPayload{Bot: bot, Node: node, Token: token})
}
func released(bot, node string, token uint64) actions.Action {
	return actions.Released.New(actions.ReleasedPayload{Bot: bot, Node: node, Token: token})
}

// from marks a as published by node under token, as the feed does.
func from(node string, token uint64, a actions.Action) actions.Action {
	a.Meta.Node, a.Meta.Token = node, token
	return a
}

func clustered() reducers.Config {
	c := exact()
	c.Node = "n1"
	return c
}

// split: b1 driven here and logged in, b2 driven by n2 and logged in there.
var split = []step{
	at(0, added("b1")), at(0, added("b2")),
	at(0, owned("b1", "n1", 1)), at(0, from("n2", 5, owned("b2", "n2", 5))),
	at(0, login("b1")), at(0, from("n2", 5, login("b2"))),
}

func TestReduceClusterActions(t *testing.T) {
	const sec = time.Second
	tests := []reduceCase{
		{name: "a bot nobody drives is watched by no one", act: at(0, added("b1")),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				assert.True(t, w.bot("b1").Due.IsZero())
				assert.Zero(t, w.s.Deadlines.Len())
			}},
		{name: "owned here: watched, out of rotation until it logs in", setup: []step{at(0, added("b1"))},
			act: at(sec, owned("b1", "n1", 1)),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.Equal(t, "n1", b.Node)
				assert.Equal(t, uint64(1), b.Token)
				assert.False(t, b.Available)
				assert.Equal(t, "starting on node n1", b.Reason)
				assert.Equal(t, t0.Add(61*sec), b.Due, "silence counts from the OWNED")
			}},
		{name: "owned elsewhere: mirrored, never due", setup: []step{at(0, added("b2"))},
			act: at(sec, from("n2", 5, owned("b2", "n2", 5))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.Equal(t, "n2", b.Node)
				assert.True(t, b.Due.IsZero())
				assert.Zero(t, w.s.Deadlines.Len())
			}},
		{name: "a remote login: available here, no deadline", setup: split[:4], act: at(sec, from("n2", 5, login("b2"))),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				b := w.bot("b2")
				assert.True(t, b.Available && b.LoggedIn)
				assert.True(t, b.Due.IsZero())
				assert.Equal(t, seq, b.FlipBy, "the flip is told here too")
				assert.True(t, w.s.Selves.Has("self-b2"), "its account is the pool's")
			}},
		{name: "a fact under a stale token: unchanged", setup: split, act: at(sec, from("n2", 4, logout("b2"))), same: true},
		{name: "a fact of another node: unchanged", setup: split, act: at(sec, from("n3", 5, logout("b2"))), same: true},
		{name: "our own fact coming back: unchanged", setup: split, act: at(sec, from("n1", 1, logout("b1"))), same: true},
		{name: "a fact about an unknown bot: unchanged", setup: split, act: at(sec, from("n2", 5, logout("b9"))), same: true},
		{name: "an unknown bot owned elsewhere: in the pool, out of rotation", setup: split, act: at(sec, from("n2", 9, owned("b9", "n2", 9))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b9")
				assert.Equal(t, "n2", b.Node)
				assert.False(t, b.Available)
				assert.True(t, b.Due.IsZero())
				w.at(2*sec, from("n2", 9, login("b9")))
				assert.True(t, w.bot("b9").Available)
			}},
		{name: "an older OWNED: unchanged", setup: split, act: at(sec, from("n3", 4, owned("b2", "n3", 4))), same: true},
		{name: "an OWNED that lies about its node: unchanged", setup: split, act: at(sec, from("n3", 6, owned("b2", "n4", 6))), same: true},
		{name: "a newer OWNED: the former owner's late facts no longer land", setup: split,
			act: at(sec, from("n3", 6, owned("b2", "n3", 6))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.Equal(t, "n3", b.Node)
				assert.False(t, b.Available)
				before := w.s
				w.at(2*sec, from("n2", 5, login("b2")))
				assert.True(t, w.s == before)
			}},
		{name: "taken over here: watched from now", setup: split, act: at(10*sec, owned("b2", "n1", 6)),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.Equal(t, t0.Add(70*sec), b.Due)
				assert.Equal(t, t0.Add(10*sec), b.LastSeen)
			}},
		{name: "the owner's failure: mirrored, no reset scheduled", setup: split,
			act: at(sec, from("n2", 5, actions.BotFailed.New(actions.ReasonPayload{Bot: "b2", Reason: "silent", Decided: true}))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.False(t, b.Available)
				assert.Equal(t, reducers.Failed, b.Phase)
				assert.Equal(t, "silent", b.Reason)
				assert.True(t, b.ResetAt.IsZero() && b.Due.IsZero())
				assert.Equal(t, 1, w.s.Available)
			}},
		{name: "an order to fail a remote bot: for its owner, unchanged here", setup: split, act: at(sec, failed("b2", "operator")), same: true},
		{name: "the owner's recovery: available here", setup: with(split,
			at(sec, from("n2", 5, actions.BotFailed.New(actions.ReasonPayload{Bot: "b2", Reason: "silent", Decided: true})))),
			act: at(2*sec, from("n2", 5, actions.BotRecovered.New(actions.BotPayload{Bot: "b2"}))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.True(t, b.Available)
				assert.Equal(t, reducers.Watching, b.Phase)
				assert.True(t, b.Due.IsZero())
			}},
		{name: "our own recovery notice: unchanged", setup: split, act: at(sec, actions.BotRecovered.New(actions.BotPayload{Bot: "b1"})), same: true},
		{name: "released by its owner: out of rotation, driven by none", setup: split,
			act: at(sec, from("n2", 5, released("b2", "n2", 5))),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b2")
				assert.Empty(t, b.Node)
				assert.Equal(t, uint64(5), b.Token, "the highest token stays")
				assert.False(t, b.Available || b.LoggedIn)
				assert.Equal(t, "released by node n2", b.Reason)
			}},
		{name: "lost here: no longer watched", setup: split, act: at(sec, released("b1", "n1", 1)),
			check: func(t *testing.T, w *world, _ reducers.Pool, _ uint64) {
				b := w.bot("b1")
				assert.Empty(t, b.Node)
				assert.True(t, b.Due.IsZero())
				assert.Zero(t, w.s.Deadlines.Len())
				assert.Equal(t, 1, w.s.Available, "b2 only")
			}},
		{name: "released by a node that does not drive it: unchanged", setup: split, act: at(sec, released("b1", "n2", 1)), same: true},
		{name: "released under an older token: unchanged", setup: split, act: at(sec, from("n2", 5, released("b2", "n2", 4))), same: true},
		{name: "a send through a remote bot fails: its owner counts, the send goes on", setup: with(split,
			at(0, requested("s1", "alice")), at(0, result("s1", "b1", 1, actions.NotSent))),
			act: at(sec, actions.SendResult.New(actions.SendResultPayload{ID: "s1", Bot: "b2", Attempt: 2, Outcome: actions.Unknown, Node: "n2"})),
			check: func(t *testing.T, w *world, before reducers.Pool, _ uint64) {
				b2, _ := before.Bots.Get("b2")
				assert.Equal(t, *b2, w.bot("b2"), "the record is its owner's")
				sd := w.send("s1")
				assert.Equal(t, actions.Unknown, sd.Outcome)
				assert.Equal(t, "n2", sd.Node)
			}},
		{name: "a message another process claimed: a sign of life, not accepted", setup: split,
			act: at(30*sec, actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m1", From: "carol", Text: "hi", Elsewhere: true})),
			check: func(t *testing.T, w *world, _ reducers.Pool, seq uint64) {
				assert.Equal(t, t0.Add(30*sec), w.bot("b1").LastSeen)
				assert.Zero(t, w.s.AcceptedBy("m1"))
			}},
	}
	runReduceCases(t, clustered(), tests)
}

// TestRemoteBotsAreNeverDue runs the clock for an hour over a bot driven
// elsewhere that stays silent: no ding, no failure, no reset is decided
// here; the bot driven here is failed and reset as usual.
func TestRemoteBotsAreNeverDue(t *testing.T) {
	w := newWorld(t, clustered())
	for _, st := range split {
		w.at(st.at, st.a)
	}
	w.tick(time.Hour, func(_ reducers.Pool, a actions.Action) {
		p, _ := actions.Due.Match(a)
		assert.Equal(t, "b1", p.Bot)
	})
	b2 := w.bot("b2")
	assert.True(t, b2.Available)
	assert.Zero(t, b2.Dings+b2.Reset)
	assert.Zero(t, b2.DingBy+b2.ResetBy)
	assert.Equal(t, reducers.Failed, w.bot("b1").Phase)
}

// TestSnapshotMerge: a process that joins takes the records of the bots
// driven elsewhere, and their rooms, from a snapshot; its own bots, bots
// it does not know and older records stay as they are.
func TestSnapshotMerge(t *testing.T) {
	// The writer (node n2's view): b2 driven there, in room r1; b1 driven
	// by n1 under token 1; b3 unknown to the joiner.
	wr := newWorld(t, func() reducers.Config { c := exact(); c.Node = "n2"; return c }())
	for _, a := range []actions.Action{added("b1"), added("b2"), added("b3"),
		from("n1", 1, owned("b1", "n1", 1)), owned("b2", "n2", 5), login("b2"), rooms("b2", "r1"),
		from("n3", 2, owned("b4", "n3", 2))} {
		wr.do(a)
	}
	state, err := json.Marshal(wr.s)
	require.NoError(t, err)

	w := newWorld(t, clustered())
	w.do(added("b1"))
	w.do(added("b2"))
	w.do(owned("b1", "n1", 1))
	w.do(login("b1"))
	own := w.bot("b1")
	w.do(actions.Snapshot.New(actions.SnapshotPayload{ID: "1-1", State: state}))

	assert.Equal(t, own, w.bot("b1"), "this process's word on its own bot stands")
	b2 := w.bot("b2")
	assert.Equal(t, "n2", b2.Node)
	assert.Equal(t, uint64(5), b2.Token)
	assert.True(t, b2.Available)
	assert.True(t, b2.Due.IsZero())
	assert.Equal(t, "mock", b2.Puppet)
	assert.Equal(t, w.seq, b2.FlipBy)
	assert.Zero(t, b2.RoomsBy)
	assert.False(t, w.s.Bots.Has("b3"), "driven by none: not added")
	assert.Equal(t, "n3", w.bot("b4").Node, "driven elsewhere: added")
	m, _ := w.s.Rooms.Get("r1")
	assert.Equal(t, []string{"b2"}, m)
	assert.True(t, w.s.Selves.Has("self-b2"))
	assert.Equal(t, 2, w.s.Available)
	assert.Equal(t, []string{"b1", "b2", "b4"}, w.s.Bots.Keys())

	// Facts after the snapshot land; a snapshot again changes nothing.
	w.do(from("n2", 5, logout("b2")))
	assert.False(t, w.bot("b2").Available)
	before := w.s
	bad := w.do(actions.Snapshot.New(actions.SnapshotPayload{ID: "1-1", State: json.RawMessage(`{"bots":`)}))
	assert.True(t, w.s == before, "%s: a snapshot that does not decode changes nothing", bad.Type)
}
