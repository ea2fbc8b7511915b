package wechatyservice

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactForms(t *testing.T) {
	const tok = `t+k/"x"=`
	tests := []struct{ in, want string }{
		{"plain " + tok, "plain [REDACTED]"},
		{"https://x/?t=t%2Bk%2F%22x%22%3D", "https://x/?t=[REDACTED]"},
		{"https://x/t+k%2F%22x%22=", "https://x/[REDACTED]"},
		{`{"r":"t+k/\"x\"="}`, `{"r":"[REDACTED]"}`},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact(tt.in, tok), tt.in)
	}
}

func TestDataStringUnescapes(t *testing.T) {
	assert.Equal(t, `{"reason":"tok <&> é"}`, dataString(json.RawMessage(`{ "reason" : "\u0074ok \u003c&\u003e \u00e9" }`)))
	assert.Equal(t, `[1,2.50,"x"]`, dataString(json.RawMessage(`[1, 2.50, "x"]`)))
	assert.Equal(t, "s", dataString(json.RawMessage(`"s"`)))
	assert.Equal(t, "", dataString(json.RawMessage(`null`)))
}
