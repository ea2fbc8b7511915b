package actions_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type greetPayload struct {
	Who   string `json:"who"`
	Times int    `json:"times"`
}

var (
	greet = actions.Define[greetPayload]("actions_test/GREET")
	tick  = actions.Define[actions.Empty]("actions_test/TICK")
)

func TestCreatorNewAndMatch(t *testing.T) {
	a := greet.New(greetPayload{Who: "bot", Times: 2})
	p, ok := greet.Match(a)
	assert.True(t, ok)
	assert.Equal(t, greetPayload{Who: "bot", Times: 2}, p)
	_, ok = tick.Match(a)
	assert.False(t, ok)
	assert.True(t, greet.Is(a))
	assert.Equal(t, "actions_test/GREET", greet.Type())

	// Same type string, wrong payload type: no match, no panic.
	forged := actions.Action{Type: greet.Type(), Payload: "not a greetPayload"}
	_, ok = greet.Match(forged)
	assert.False(t, ok)
}

func TestDefinePanicsOnProgrammingErrors(t *testing.T) {
	assert.PanicsWithValue(t, `actions: type "actions_test/GREET" defined twice`, func() {
		actions.Define[int]("actions_test/GREET")
	})
	assert.Panics(t, func() { actions.Define[int]("") })
}

func TestJSONRoundTrip(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := greet.New(greetPayload{Who: "x", Times: 3})
	a.Meta = actions.Meta{Time: when, Source: "epic/test", Seq: 7}
	data, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"actions_test/GREET","payload":{"who":"x","times":3},"meta":{"time":"2026-01-02T03:04:05Z","source":"epic/test","seq":7}}`, string(data))

	var back actions.Action
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, a, back)

	e := tick.New(actions.Empty{})
	data, err = json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"actions_test/TICK"}`, string(data))
	require.NoError(t, json.Unmarshal(data, &back))
	assert.True(t, tick.Is(back))
	assert.Equal(t, "actions_test/TICK", back.String())
}

func TestDecodeErrors(t *testing.T) {
	var a actions.Action
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"type":"nope/NOPE"}`), &a), actions.ErrUnknownType)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"payload":1}`), &a), actions.ErrInvalid)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"type":"actions_test/GREET","payload":{"times":"x"}}`), &a), actions.ErrInvalid)

	got, err := actions.Decode("actions_test/GREET", json.RawMessage(`{"who":"y"}`))
	require.NoError(t, err)
	p, ok := greet.Match(got)
	assert.True(t, ok)
	assert.Equal(t, "y", p.Who)
	_, err = actions.Decode("nope", nil)
	assert.ErrorIs(t, err, actions.ErrUnknownType)
	assert.True(t, actions.Known("actions_test/TICK"))
	assert.Contains(t, actions.Types(), "bot/LOGIN")
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"type":"actions_test/GREET","payload":{"who":"x"}}`))
	f.Add([]byte(`{"type":"bot/LOGIN","payload":{"bot":"b","self":"s"},"meta":{"seq":1}}`))
	f.Add([]byte(`{"type":"send/DONE","payload":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a actions.Action
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same action.
		out, err := json.Marshal(a)
		require.NoError(t, err)
		var back actions.Action
		require.NoError(t, json.Unmarshal(out, &back))
		assert.Equal(t, a.Type, back.Type)
		assert.Equal(t, a.Meta.Seq, back.Meta.Seq)
	})
}
