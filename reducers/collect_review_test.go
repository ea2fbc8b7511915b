package reducers_test

import (
	"encoding/json"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func collecting(id, to string) actions.Action {
	return actions.SendRequested.New(actions.SendPayload{ID: id, To: to, Text: "hello", Collect: true})
}

// A collected send stays in Sends through a fail-over and leaves them
// for Ended only with the action that ends it; the JSON of the pool keeps
// Ended.
func TestReviewCollectThroughFailover(t *testing.T) {
	w := newWorld(t, exact())
	for _, b := range []string{"a", "b"} {
		w.do(added(b))
		w.do(login(b))
	}
	w.do(collecting("s1", "alice"))
	first := w.send("s1")
	require.Equal(t, 1, first.Attempt)
	w.do(result("s1", first.Bot, 1, actions.NotSent))
	second := w.send("s1")
	require.Equal(t, 2, second.Attempt, "failed over, still in Sends")
	assert.NotEqual(t, first.Bot, second.Bot)
	assert.Nil(t, w.s.Ended)
	w.do(result("s1", second.Bot, 2, actions.Delivered))
	assert.False(t, w.s.Sends.Has("s1"))
	require.NotNil(t, w.s.Ended)
	assert.Equal(t, "s1", w.s.Ended.ID)
	assert.Equal(t, actions.Delivered, w.s.Ended.Outcome)
	assert.Equal(t, second.Bot, w.s.Ended.Bot)

	// A late result of the first attempt changes nothing.
	w.do(result("s1", first.Bot, 1, actions.Delivered))
	assert.Equal(t, w.s.Ended.Outcome, actions.Delivered)
	assert.False(t, w.s.Sends.Has("s1"))

	data := mustJSON(t, w.s)
	var back reducers.Pool
	require.NoError(t, json.Unmarshal([]byte(data), &back))
	require.NotNil(t, back.Ended)
	// The same record, but for the position of its bot (Send.slot), a
	// hint that JSON does not carry.
	assert.Equal(t, mustJSON(t, *w.s.Ended), mustJSON(t, *back.Ended))
	assert.Equal(t, data, mustJSON(t, back))
}

// A collected send canceled while it waits for a bot ends at once, in
// Ended; one whose caller collects it during an attempt is an orphan and
// is forgotten as it ends.
func TestReviewCollectCanceledWaitingAndOrphaned(t *testing.T) {
	cfg := exact()
	cfg.WaitForBot = true
	w := newWorld(t, cfg)
	w.do(collecting("s1", "alice"))
	require.True(t, w.send("s1").Waiting)
	w.do(canceled("s1"))
	assert.False(t, w.s.Sends.Has("s1"))
	require.NotNil(t, w.s.Ended)
	assert.Equal(t, actions.Canceled, w.s.Ended.Outcome)

	w.do(added("a"))
	w.do(login("a"))
	w.do(collecting("s2", "alice"))
	require.Equal(t, "a", w.send("s2").Bot)
	w.do(canceled("s2"))
	w.do(collected("s2"))
	require.True(t, w.send("s2").Orphan)
	w.do(result("s2", "a", 1, actions.Unknown))
	assert.False(t, w.s.Sends.Has("s2"), "an orphan is forgotten as it ends")
	// Ended holds the orphan's end now (nobody reads it; one record).
	require.NotNil(t, w.s.Ended)
	assert.Equal(t, actions.Abandoned, w.s.Ended.Outcome)
}
