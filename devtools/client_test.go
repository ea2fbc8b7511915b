package devtools

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nextFrame returns the next frame the client sent, decoded.
func nextFrame(t *testing.T, rc *relayConn) packet {
	t.Helper()
	f := rc.waitFrame(t, "a frame", func(string) bool { return true })
	var p packet
	require.NoError(t, json.Unmarshal([]byte(f), &p), f)
	return p
}

func TestClientSpeaksTheRelayProtocol(t *testing.T) {
	f, url := startFakeRelay(t)
	st := newTStore(t)
	c, err := Connect(context.Background(), st, WithURL(url), WithMaxAge(50), WithName("test pool"))
	require.NoError(t, err)
	defer c.Close()
	rc := f.next(t)

	// Handshake, login as the app, both subscriptions, START, INIT: in order.
	p := nextFrame(t, rc)
	assert.Equal(t, "#handshake", p.Event)
	assert.NotZero(t, p.Cid, "a numeric cid, or the relay closes with 4009")
	p = nextFrame(t, rc)
	assert.Equal(t, "login", p.Event)
	assert.JSONEq(t, `"master"`, string(p.Data))
	p = nextFrame(t, rc)
	assert.Equal(t, "#subscribe", p.Event)
	assert.JSONEq(t, `{"channel":"respond"}`, string(p.Data))
	p = nextFrame(t, rc)
	assert.Equal(t, "#subscribe", p.Event)
	assert.JSONEq(t, `{"channel":"sc-`+rc.id+`"}`, string(p.Data))
	p = nextFrame(t, rc)
	assert.Equal(t, "log", p.Event)
	assert.Zero(t, p.Cid, "app messages are transmitted, not invoked")
	start := rc.waitLog(t, "START")
	assert.Equal(t, rc.id, start.ID)
	assert.Equal(t, "pool-1", start.InstanceID)
	assert.Equal(t, "test pool", start.Name)
	init := rc.waitLog(t, "INIT")
	assert.JSONEq(t, `{"count":0,"seen":0,"token":"[REDACTED]"}`, *init.Payload)
	assert.Equal(t, 50, init.MaxAge)
	require.NotNil(t, init.LibConfig)
	assert.False(t, init.LibConfig.Features["jump"], "inspect-only by default")
	assert.False(t, init.LibConfig.Features["dispatch"])

	// Every change is an ACTION with the new state, maxAge and nextActionId.
	require.NoError(t, st.Dispatch(tAdd.New(5)))
	act, s := rc.waitAction(t, tAdd.Type())
	assert.Equal(t, tstate{Count: 5, Token: "[REDACTED]"}, s)
	assert.Equal(t, 50, act.MaxAge)
	assert.Positive(t, act.NextActionID)
	assert.NotContains(t, string(act.Action), "tok-secret-123")
	_, s = rc.waitAction(t, tSeen.Type())
	assert.Equal(t, 1, s.Seen, "the epic's answer is streamed too")

	// Both heartbeat styles are answered.
	require.NoError(t, rc.send(""))
	rc.waitFrame(t, `the answer "" to ""`, func(f string) bool { return f == "" })
	require.NoError(t, rc.send("#1"))
	rc.waitFrame(t, `the answer "#2" to "#1"`, func(f string) bool { return f == "#2" })

	// A monitor's START is answered with INIT and the current state.
	rc.publish(t, "respond", map[string]any{"type": "START"})
	init = rc.waitLog(t, "INIT")
	assert.Contains(t, *init.Payload, `"count":5`)

	// Ignored with a count, the connection stays: a command for another
	// instance, a publish that is not a message, an unknown event, an
	// unknown monitor message, another channel.
	rc.publish(t, "sc-"+rc.id, map[string]any{"type": "DISPATCH", "instanceId": "someone-else", "action": map[string]any{"type": "RESET"}})
	rc.publish(t, "sc-"+rc.id, 42)
	require.NoError(t, rc.send(`{"event":"#surprise","data":{}}`))
	rc.publish(t, "respond", map[string]any{"type": "WHAT_IS_THIS"})
	rc.publish(t, "sc-someone-else", map[string]any{"type": "START"})
	eventually(t, "ignored and bad messages counted", func() bool {
		s := c.Stats()
		return s.Ignored == 1 && s.BadFrames == 3
	})
	require.NoError(t, st.Dispatch(tAdd.New(1)))
	_, s = rc.waitAction(t, tAdd.Type())
	assert.Equal(t, 6, s.Count, "same connection, same stream")
	assert.Equal(t, uint64(1), c.Stats().Sessions)

	// A frame that is not JSON closes the connection; the client comes back
	// and starts from the current state.
	require.NoError(t, rc.send("this is not json"))
	rc2 := f.next(t)
	init = rc2.waitLog(t, "INIT")
	assert.Contains(t, *init.Payload, `"count":6`)
	eventually(t, "second session", func() bool { return c.Stats().Sessions == 2 && c.Stats().Connected })
	require.NoError(t, st.Dispatch(tAdd.New(1)))
	_, s = rc2.waitAction(t, tAdd.Type())
	assert.Equal(t, 7, s.Count)
	assert.Equal(t, 7, st.State().Count, "the store went on")
}

func TestClientTimeTravel(t *testing.T) {
	f, url := startFakeRelay(t)
	st := newTStore(t)
	c, err := Connect(context.Background(), st, WithURL(url), WithTimeTravel(true))
	require.NoError(t, err)
	defer c.Close()
	rc := f.next(t)
	init := rc.waitLog(t, "INIT")
	assert.True(t, init.LibConfig.Features["jump"])

	// What the monitor holds: action ID → the state it carried.
	type entry struct {
		id int
		s  tstate
	}
	var seen []entry
	record := func(typ string) entry {
		m, s := rc.waitAction(t, typ)
		e := entry{m.NextActionID - 1, s}
		seen = append(seen, e)
		return e
	}
	for _, n := range []int{1, 2, 4} {
		require.NoError(t, st.Dispatch(tAdd.New(n)))
		record(tAdd.Type())
		record(tSeen.Type())
	}
	require.Equal(t, tstate{Count: 7, Seen: 3, Token: "tok-secret-123"}, st.State())

	// JUMP_TO_ACTION: the store goes to the state after that action, with
	// its secret intact: the state comes from this process, not from the
	// (redacted) state the monitor attaches.
	target := seen[2] // after ADD 2
	rc.command(t, map[string]any{"type": "JUMP_TO_ACTION", "actionId": target.id})
	eventually(t, "the jump", func() bool { return c.Stats().Jumps == 1 })
	assert.Equal(t, tstate{Count: 3, Seen: 1, Token: "tok-secret-123"}, st.State())
	_, s := rc.waitAction(t, actions.Replaced.Type())
	assert.Equal(t, tstate{Count: 3, Seen: 1, Token: "[REDACTED]"}, s, "the monitor sees the jump as an action")

	// Epics keep running, and the next live action continues from the
	// jumped state.
	require.NoError(t, st.Dispatch(tAdd.New(10)))
	_, s = rc.waitAction(t, tSeen.Type())
	assert.Equal(t, tstate{Count: 13, Seen: 2, Token: "[REDACTED]"}, s)

	// JUMP_TO_STATE by index: 0 is what INIT carried.
	rc.command(t, map[string]any{"type": "JUMP_TO_STATE", "index": 0})
	eventually(t, "the jump to index 0", func() bool { return c.Stats().Jumps == 2 })
	assert.Equal(t, tstate{Token: "tok-secret-123"}, st.State())
	rc.waitAction(t, actions.Replaced.Type())

	// A state the monitor cannot hold is refused; the store is untouched.
	rc.command(t, map[string]any{"type": "JUMP_TO_ACTION", "actionId": 9999})
	rc.command(t, map[string]any{"type": "JUMP_TO_STATE", "index": -1})
	rc.command(t, map[string]any{"type": "TOGGLE_ACTION", "id": 1})
	eventually(t, "refused", func() bool { return c.Stats().Refused == 3 })
	assert.Equal(t, tstate{Token: "tok-secret-123"}, st.State())

	// COMMIT: the current state becomes the monitor's base (a new INIT).
	require.NoError(t, st.Dispatch(tAdd.New(5)))
	rc.waitAction(t, tSeen.Type())
	rc.command(t, map[string]any{"type": "COMMIT"})
	init = rc.waitLog(t, "INIT")
	assert.JSONEq(t, `{"count":5,"seen":1,"token":"[REDACTED]"}`, *init.Payload)

	// ROLLBACK: back to the committed state, then a new INIT.
	require.NoError(t, st.Dispatch(tAdd.New(100)))
	rc.waitAction(t, tSeen.Type())
	rc.command(t, map[string]any{"type": "ROLLBACK"})
	init = rc.waitLog(t, "INIT")
	assert.JSONEq(t, `{"count":5,"seen":1,"token":"[REDACTED]"}`, *init.Payload)
	assert.Equal(t, tstate{Count: 5, Seen: 1, Token: "tok-secret-123"}, st.State())

	// RESET: back to the state when DevTools attached, then a new INIT.
	rc.command(t, map[string]any{"type": "RESET"})
	init = rc.waitLog(t, "INIT")
	assert.JSONEq(t, `{"count":0,"seen":0,"token":"[REDACTED]"}`, *init.Payload)
	assert.Equal(t, tstate{Token: "tok-secret-123"}, st.State())
	assert.Equal(t, uint64(5), c.Stats().Jumps, "two jumps, COMMIT, ROLLBACK, RESET")
}

func TestClientRefusesCommandsByDefault(t *testing.T) {
	f, url := startFakeRelay(t)
	st := newTStore(t)
	c, err := Connect(context.Background(), st, WithURL(url))
	require.NoError(t, err)
	defer c.Close()
	rc := f.next(t)
	rc.waitLog(t, "INIT")
	require.NoError(t, st.Dispatch(tAdd.New(7)))
	first, _ := rc.waitAction(t, tAdd.Type())
	rc.waitAction(t, tSeen.Type())

	for _, a := range []map[string]any{
		{"type": "JUMP_TO_STATE", "index": 0},
		{"type": "JUMP_TO_ACTION", "actionId": first.NextActionID - 1},
		{"type": "ROLLBACK"}, {"type": "RESET"}, {"type": "COMMIT"},
	} {
		rc.command(t, a)
	}
	rc.publish(t, "sc-"+rc.id, map[string]any{"type": "ACTION", "action": "{ type: 'devtools_internal/ADD', payload: 1 }"})
	eventually(t, "six commands refused", func() bool { return c.Stats().Refused == 6 })
	assert.Equal(t, tstate{Count: 7, Seen: 1, Token: "tok-secret-123"}, st.State(), "the store is untouched")
	assert.Zero(t, c.Stats().Jumps)
	assert.Zero(t, c.Stats().Dispatched)

	// No INIT was sent for them: the next message is the next change.
	require.NoError(t, st.Dispatch(tAdd.New(1)))
	m := rc.waitLog(t, "ACTION")
	select {
	case extra := <-rc.logs:
		assert.NotEqual(t, "INIT", extra.Type)
	default:
	}
	assert.Equal(t, tAdd.Type(), liftedType(t, m))
}

func TestClientRemoteDispatch(t *testing.T) {
	f, url := startFakeRelay(t)
	st := newTStore(t)
	c, err := Connect(context.Background(), st, WithURL(url), WithRemoteDispatch(tAdd.Type()))
	require.NoError(t, err)
	defer c.Close()
	rc := f.next(t)
	init := rc.waitLog(t, "INIT")
	assert.True(t, init.LibConfig.Features["dispatch"])

	dispatch := func(lit string) {
		rc.publish(t, "sc-"+rc.id, map[string]any{"type": "ACTION", "action": lit, "instanceId": "pool-1"})
	}
	dispatch("{ type: 'devtools_internal/ADD', payload: 3, }")
	m, s := rc.waitAction(t, tAdd.Type())
	assert.Equal(t, 3, s.Count)
	assert.Contains(t, string(m.Action), `source\":\"devtools`)
	assert.Equal(t, uint64(1), c.Stats().Dispatched)

	for _, tt := range []struct{ lit, why string }{
		{"{ type: '@@store/INIT' }", "not an action type a monitor may dispatch"},                           // the store's own: refused
		{"{ type: 'send/DONE', payload: { id: 's1', attempts: 1, outcome: 'delivered' } }", "may dispatch"}, // the pool's: refused
		{"{ type: 'devtools_internal/SEEN', payload: 1 }", "may dispatch"},                                  // defined, not listed: refused
		{"{ type: 'nobody/DEFINED_THIS' }", "may dispatch"},                                                 // not listed: refused
		{"{ type: alert(document.cookie) }", "unsupported value"},                                           // not a literal: bad
		{"{ type: 'devtools_internal/ADD', payload: 'x' }", "payload"},                                      // wrong payload: bad
	} {
		dispatch(tt.lit)
		assert.Contains(t, *rc.waitLog(t, "ERROR").Payload, tt.why, "the monitor hears why %s was not dispatched", tt.lit)
	}
	eventually(t, "counted", func() bool { s := c.Stats(); return s.Refused == 4 && s.BadFrames == 2 })
	// The echo epic's SEEN for the one add comes when its goroutine runs.
	want := tstate{Count: 3, Seen: 1, Token: "tok-secret-123"}
	eventually(t, "the add and its echo reduced", func() bool { return st.State() == want })
	assert.Equal(t, uint64(1), c.Stats().Dispatched)
}

func TestRemoteDispatchOption(t *testing.T) {
	for _, tt := range []struct {
		types    []string
		reserved bool
	}{
		{[]string{"send/DONE"}, true},
		{[]string{"app/OK", "bot/LOGIN"}, true},
		{[]string{"pool/FAILED"}, true},
		{[]string{"inbox/SEEN"}, true},
		{[]string{"@@store/INIT"}, true},
		{[]string{""}, false},
		{nil, false},
	} {
		_, err := newConfig([]Option{WithRemoteDispatch(tt.types...)})
		require.Error(t, err, "%q", tt.types)
		assert.Equal(t, tt.reserved, errors.Is(err, ErrReservedType), "%q: %v", tt.types, err)
	}
	c, err := newConfig([]Option{WithRemoteDispatch("app/A"), WithRemoteDispatch("app/B", "Bot/NOT_THE_POOL")})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"app/A": true, "app/B": true, "Bot/NOT_THE_POOL": true}, c.dispatchTypes)
	c, err = newConfig(nil)
	require.NoError(t, err)
	assert.False(t, c.remoteDispatch, "off by default")
}
