package actions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const loginURL = "https://login.example/l/qr?token=s3cr3t"

// A QR payload never shows, whatever prints or encodes the action that
// carries it, however deep; Reveal gives it back.
func TestQRIsRedacted(t *testing.T) {
	q := actions.NewQR(loginURL)
	a := actions.Scan.New(actions.ScanPayload{Bot: "b", Status: actions.ScanWaiting, QR: q})
	type wrapped struct{ p actions.ScanPayload } // an unexported field: fmt walks it by reflection
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("scan", "qr", q, "action", a)
	text, err := json.Marshal(a)
	require.NoError(t, err)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", q), "%+v": fmt.Sprintf("%+v", q), "%#v": fmt.Sprintf("%#v", q),
		"%s": fmt.Sprintf("%s", q), "%q": fmt.Sprintf("%q", q), "%x": fmt.Sprintf("%x", q),
		"payload %+v": fmt.Sprintf("%+v", a.Payload), "payload %#v": fmt.Sprintf("%#v", a.Payload),
		"unexported %+v": fmt.Sprintf("%+v", wrapped{a.Payload.(actions.ScanPayload)}),
		"action":         a.String(), "json": string(text), "slog": logged.String(),
	}
	for name, out := range outputs {
		assert.NotContains(t, out, "s3cr3t", name)
		assert.NotContains(t, out, "login.example", name)
	}
	assert.Equal(t, `{"type":"bot/SCAN","payload":{"bot":"b","status":"waiting","qr":"[REDACTED]"}}`, string(text))
	assert.Equal(t, `"[REDACTED]"`, fmt.Sprintf("%q", q))
	assert.Equal(t, loginURL, q.Reveal())
}

// A recorded scan action replays without its payload; one written by
// hand carries what it says.
func TestScanActionJSON(t *testing.T) {
	var a actions.Action
	require.NoError(t, json.Unmarshal([]byte(`{"type":"bot/SCAN","payload":{"bot":"b","status":"scanned","qr":"[REDACTED]"}}`), &a))
	p, ok := actions.Scan.Match(a)
	require.True(t, ok)
	assert.Equal(t, actions.ScanPayload{Bot: "b", Status: actions.ScanScanned}, p)
	assert.True(t, p.QR.IsZero())

	a, err := actions.Decode("bot/SCAN", json.RawMessage(`{"bot":"b","status":"waiting","qr":"weixin://qr/1"}`))
	require.NoError(t, err)
	p, _ = actions.Scan.Match(a)
	assert.Equal(t, "weixin://qr/1", p.QR.Reveal())
	assert.True(t, p.QR.Equal(actions.NewQR("weixin://qr/1")))
	assert.False(t, p.QR.Equal(actions.QR{}))

	text, err := json.Marshal(actions.Scan.New(actions.ScanPayload{Bot: "b"}))
	require.NoError(t, err)
	assert.Equal(t, `{"type":"bot/SCAN","payload":{"bot":"b","status":"unknown"}}`, string(text), "a zero QR is left out")

	_, err = actions.Decode("bot/SCAN", json.RawMessage(`{"bot":"b","status":"eaten"}`))
	assert.ErrorIs(t, err, actions.ErrInvalid)
	assert.Equal(t, "b", actions.BotOf(actions.Scan.New(actions.ScanPayload{Bot: "b"})))
}

func TestScanStatusNames(t *testing.T) {
	for _, s := range []actions.ScanStatus{actions.ScanUnknown, actions.ScanWaiting, actions.ScanScanned,
		actions.ScanConfirmed, actions.ScanTimeout, actions.ScanCanceled} {
		b, err := s.MarshalText()
		require.NoError(t, err)
		var back actions.ScanStatus
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, s, back)
		assert.Equal(t, string(b), s.String())
	}
	assert.Equal(t, "scan(9)", actions.ScanStatus(9).String())
	_, err := actions.ScanStatus(9).MarshalText()
	assert.Error(t, err)
	assert.True(t, actions.NewQR("").IsZero())
	assert.Empty(t, actions.QR{}.Reveal())
}
