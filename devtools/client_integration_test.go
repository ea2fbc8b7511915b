//go:build integration

package devtools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testState struct {
	Count int    `json:"count"`
	Auth  string `json:"authorization"` // redacted by its key
}

var (
	add   = actions.Define[int]("devtools_test/ADD")
	reset = actions.Define[actions.Empty]("devtools_test/RESET")
)

func reducer(s testState, a actions.Action) testState {
	if n, ok := add.Match(a); ok {
		s.Count += n
	}
	if reset.Is(a) {
		s.Count = 0
	}
	return s
}

func newStore(t *testing.T) *store.Store[testState] {
	t.Helper()
	st, err := store.New(reducer, testState{Auth: "Wechaty tok-123"})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	return st
}

func TestClientStreamsToTheRealRelay(t *testing.T) {
	r := startRelay(t)
	mon := startMonitor(t, r.wsURL(), "")
	st := newStore(t)
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(r.wsURL()), devtools.WithInstanceID("pool-a"))
	require.NoError(t, err)
	defer c.Close()

	start := mon.waitMessage(t, "START", nil)
	assert.Equal(t, "pool-a", start.InstanceID)
	init := mon.waitMessage(t, "INIT", nil)
	assert.JSONEq(t, `{"count":0,"authorization":"[REDACTED]"}`, init.Payload)
	assert.NotContains(t, init.Payload, "tok-123")

	require.NoError(t, st.Dispatch(add.New(5)))
	act := mon.waitMessage(t, "ACTION", nil)
	assert.JSONEq(t, `{"count":5,"authorization":"[REDACTED]"}`, act.Payload)
	var lifted struct {
		Type   string `json:"type"`
		Action struct {
			Type    string `json:"type"`
			Payload int    `json:"payload"`
		} `json:"action"`
	}
	require.NoError(t, json.Unmarshal([]byte(act.Action), &lifted))
	assert.Equal(t, "PERFORM_ACTION", lifted.Type)
	assert.Equal(t, "devtools_test/ADD", lifted.Action.Type)
	assert.Equal(t, 5, lifted.Action.Payload)

	// A monitor saying START gets the state again.
	mon.transmit(t, "respond", map[string]any{"type": "START"})
	again := mon.waitMessage(t, "INIT", nil)
	assert.Contains(t, again.Payload, `"count":5`)
	assert.True(t, c.Stats().Connected)
}

func TestJumpRefusedByDefaultAndAppliedWhenEnabled(t *testing.T) {
	r := startRelay(t)
	for _, enabled := range []bool{false, true} {
		mon := startMonitor(t, r.wsURL(), "")
		st := newStore(t)
		c, err := devtools.Connect(context.Background(), st, devtools.WithURL(r.wsURL()), devtools.WithTimeTravel(enabled))
		require.NoError(t, err)
		app := mon.waitMessage(t, "INIT", nil)
		require.NoError(t, st.Dispatch(add.New(7)))
		mon.waitMessage(t, "ACTION", nil)

		// The monitor jumps back to the first state, through the app's own channel.
		mon.transmit(t, "sc-"+app.ID, map[string]any{
			"type": "DISPATCH", "instanceId": "pool-1",
			"action": map[string]any{"type": "JUMP_TO_STATE", "index": 0},
			"state":  `{"count":0,"authorization":"[REDACTED]"}`,
		})
		if enabled {
			eventually(t, "the jump reaches the store", func() bool { return st.State().Count == 0 })
			assert.Equal(t, uint64(1), c.Stats().Jumps)
			assert.Equal(t, "Wechaty tok-123", st.State().Auth, "the jump restores this process's state, not the redacted one the monitor sent")
			// The live store continues from the jumped state.
			require.NoError(t, st.Dispatch(add.New(1)))
			assert.Equal(t, 1, st.State().Count)
		} else {
			eventually(t, "the jump is refused", func() bool { return c.Stats().Refused == 1 })
			assert.Equal(t, 7, st.State().Count, "the store is untouched")
		}
		require.NoError(t, c.Close())
	}
}

func TestRemoteDispatchOfAJavaScriptLiteral(t *testing.T) {
	r := startRelay(t)
	mon := startMonitor(t, r.wsURL(), "")
	st := newStore(t)
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(r.wsURL()), devtools.WithRemoteDispatch(add.Type()))
	require.NoError(t, err)
	defer c.Close()
	app := mon.waitMessage(t, "INIT", nil)
	mon.transmit(t, "sc-"+app.ID, map[string]any{"type": "ACTION", "action": "{ type: 'devtools_test/ADD', payload: 3 }"})
	eventually(t, "the dispatched action", func() bool { return st.State().Count == 3 })
	act := mon.waitMessage(t, "ACTION", func(m appMessage) bool {
		return strings.Contains(m.Action, `\"source\":\"devtools\"`) || strings.Contains(m.Action, `"source":"devtools"`)
	})
	assert.Contains(t, act.Payload, `"count":3`)
	// The pool's own actions are refused, with an ERROR to the monitor.
	mon.transmit(t, "sc-"+app.ID, map[string]any{"type": "ACTION", "action": "{ type: 'send/DONE', payload: { id: 's1', attempts: 1, outcome: 'delivered' } }"})
	refusal := mon.waitMessage(t, "ERROR", nil)
	assert.Contains(t, refusal.Payload, `"send/DONE" is not an action type a monitor may dispatch`)
	// Garbage is counted and ignored; the connection stays.
	mon.transmit(t, "sc-"+app.ID, map[string]any{"type": "ACTION", "action": "{ type: alert(1) }"})
	mon.transmit(t, "sc-"+app.ID, map[string]any{"type": "WHAT"})
	eventually(t, "bad commands counted", func() bool { return c.Stats().BadFrames >= 2 })
	require.NoError(t, st.Dispatch(add.New(1)))
	mon.waitMessage(t, "ACTION", func(m appMessage) bool { return strings.Contains(m.Payload, `"count":4`) })
}

func TestClientReconnectsAfterRelayRestart(t *testing.T) {
	r := startRelay(t)
	st := newStore(t)
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(r.wsURL()))
	require.NoError(t, err)
	defer c.Close()
	eventually(t, "first session", func() bool { return c.Stats().Sessions == 1 })
	r.stop()
	eventually(t, "noticed the relay is gone", func() bool { return !c.Stats().Connected })
	require.NoError(t, st.Dispatch(add.New(2)), "the store goes on without a relay")

	r2 := startRelayOn(t, r.port)
	mon := startMonitor(t, r2.wsURL(), "")
	eventually(t, "second session", func() bool { return c.Stats().Sessions == 2 })
	mon.transmit(t, "respond", map[string]any{"type": "START"})
	init := mon.waitMessage(t, "INIT", nil)
	assert.Contains(t, init.Payload, `"count":2`, "the new session starts from the current state")
}
