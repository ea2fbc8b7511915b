package reducers_test

import (
	"encoding/json"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A state from elsewhere (DevTools, a Replace) whose ended send has no
// record but its end must not give a Pool whose Ended panics when read
// (its ID is read by the facade's commit hook, by Say and by ops): an
// error, or an End with a record.
func TestReview5EndedWithoutRecordInJSON(t *testing.T) {
	for _, in := range []string{`{"ended":{}}`, `{"ended":{"outcome":"delivered","error":"x"}}`} {
		var p reducers.Pool
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			continue // a clear error is fine
		}
		require.NotNil(t, p.Ended, in)
		require.NotNil(t, p.Ended.Send, "%s: an End without its send's record", in)
		assert.NotPanics(t, func() { _ = p.Ended.ID }, in)
	}
}

// In JSON, Ended reads as before it shared the record of the attempt:
// the send's record with its end in place, and nothing of an attempt
// under way (routedBy, waiting) that an ended send no longer has.
func TestReview5EndedJSONHasNoAttemptUnderWay(t *testing.T) {
	w := newWorld(t, exact())
	w.do(added("a"))
	w.do(login("a"))
	w.do(collecting("s1", "alice"))
	require.NotZero(t, w.send("s1").RoutedBy)
	w.do(result("s1", "a", 1, actions.Delivered))
	require.NotNil(t, w.s.Ended)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, w.s.Ended)), &m))
	assert.NotContains(t, m, "routedBy", "an ended send is routed by nothing")
	assert.Equal(t, "delivered", m["outcome"])

	// One that ends as it waits for a bot.
	cfg := exact()
	cfg.WaitForBot = true
	w = newWorld(t, cfg)
	w.do(collecting("s2", "alice"))
	require.True(t, w.send("s2").Waiting)
	w.do(canceled("s2"))
	require.NotNil(t, w.s.Ended)
	m = nil
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, w.s.Ended)), &m))
	assert.NotContains(t, m, "waiting", "an ended send waits for nothing")
}
