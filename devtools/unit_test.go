package devtools

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		in      string
		kind    frameKind
		packets int
		bad     bool
	}{
		{"", framePingV2, 0, false},
		{"#1", framePingV1, 0, false},
		{`{"event":"#publish","data":{"channel":"respond","data":{}}}`, framePackets, 1, false},
		{`[{"rid":1,"data":"x"},{"event":"e"}]`, framePackets, 2, false},
		{`{"rid":1`, 0, 0, true},
		{`hello`, 0, 0, true},
		{`   `, 0, 0, true},
		{`[` + strings.Repeat(`{},`, maxPacketsPerFrame) + `{}]`, 0, 0, true},
		{`{"cid":"one"}`, 0, 0, true},
	}
	for _, tt := range tests {
		k, ps, err := decodeFrame([]byte(tt.in))
		if tt.bad {
			assert.ErrorIs(t, err, ErrBadFrame, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.kind, k, tt.in)
		assert.Len(t, ps, tt.packets, tt.in)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{"", "#1", `{"event":"login","data":"master","cid":2}`, `[{"rid":1}]`, `{"data":[1,2,{"a":null}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, ps, err := decodeFrame(b)
		if err != nil && !errors.Is(err, ErrBadFrame) {
			t.Fatalf("error %v does not wrap ErrBadFrame", err)
		}
		if len(ps) > maxPacketsPerFrame {
			t.Fatalf("%d packets", len(ps))
		}
	})
}

func TestJSLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{ type: 'ADD', by: 5 }`, `{"type":"ADD","by":5}`},
		{`{type:"bot/DONG",payload:{bot:'b1'},}`, `{"type":"bot/DONG","payload":{"bot":"b1"}}`},
		{`{ 'quoted key': [1, 2.5, -3e2, true, false, null, undefined] }`, `{"quoted key":[1,2.5,-300,true,false,null,null]}`},
		{`{ s: 'it\'s \u00e9\n' }`, `{"s":"it's é\n"}`},
		{`{ $x: { _y: [] } }`, `{"$x":{"_y":[]}}`},
	}
	for _, tt := range tests {
		got, err := jsLiteralToJSON(tt.in)
		require.NoError(t, err, tt.in)
		assert.JSONEq(t, tt.want, string(got), tt.in)
	}
	for _, bad := range []string{`{ type: alert(1) }`, `{ type: 'x' `, `{ : 1 }`, `{ a 1 }`, `'unterminated`, `{a:1} extra`, `{ a: NaN }`, strings.Repeat("[", 100) + strings.Repeat("]", 100), `{a:'line` + "\n" + `'}`, `{a:1e999}`} {
		_, err := jsLiteralToJSON(bad)
		assert.ErrorIs(t, err, ErrBadFrame, bad)
	}
}

func FuzzJSLiteral(f *testing.F) {
	for _, s := range []string{`{ type: 'ADD', by: 5 }`, `[1,{a:[null]}]`, `'x'`, `{a:'\u0041'}`, `{2:1,b:[,'\ud83d'],1:-0x_1}`, `'\u{1F600}\x41\
'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := jsLiteralToJSON(s)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q converted to invalid JSON %q", s, out)
		}
		// JSON is a literal too, and what the decoder writes is what
		// JSON.stringify writes: decoding it again changes nothing.
		again, err := jsLiteralToJSON(string(out))
		if err != nil || string(again) != string(out) {
			t.Fatalf("%q → %s → %s, %v", s, out, again, err)
		}
	})
}

func TestRedactSecrets(t *testing.T) {
	in := `{"bots":{"b1":{"token":"t1","name":"x","nested":[{"Password":"p"}]}},"authorization":"Wechaty t","count":1}`
	out, err := RedactSecrets([]byte(in))
	require.NoError(t, err)
	assert.JSONEq(t, `{"bots":{"b1":{"token":"[REDACTED]","name":"x","nested":[{"Password":"[REDACTED]"}]}},"authorization":"[REDACTED]","count":1}`, string(out))
	plain := []byte(`{"count":1}`)
	out, err = RedactSecrets(plain)
	require.NoError(t, err)
	assert.Equal(t, plain, out, "fast path: untouched")
	_, err = RedactSecrets([]byte(`{"token":`))
	assert.Error(t, err)
}

func TestReconnectDelay(t *testing.T) {
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0.5, 500 * time.Millisecond},
		{2, 0.5, time.Second},
		{3, 0.5, 2 * time.Second},
		{1, 0, 400 * time.Millisecond},
		{1, 1, 600 * time.Millisecond},
		{7, 0.5, 30 * time.Second},
		{100, 0.5, 30 * time.Second},
		{0, 0.5, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, reconnectDelay(tt.n, tt.r), "n=%d r=%v", tt.n, tt.r)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := newConfig([]Option{WithURL("http://x"), WithMaxAge(0), WithRedactor(nil), WithLogger(nil)})
	require.Error(t, err)
	for _, want := range []string{"want ws://", "MaxAge", "WithRedactor(nil)", "WithLogger(nil)"} {
		assert.ErrorContains(t, err, want)
	}
	c, err := newConfig([]Option{WithURL("ws://127.0.0.1:8000")})
	require.NoError(t, err)
	assert.Equal(t, "ws://127.0.0.1:8000/socketcluster/", c.url)
}
