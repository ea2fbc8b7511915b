package devtools

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactSecretsCatchesEscapedKeysAndPuppetSecrets(t *testing.T) {
	out, err := RedactSecrets([]byte(`{"to\u006ben":"t1","TOKEN":"t2","my_ApiToken":"t3","note":"fine"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"token":"[REDACTED]","TOKEN":"[REDACTED]","my_ApiToken":"[REDACTED]","note":"fine"}`, string(out))

	// A puppet.Secret is redacted whatever its key, by its own marshaling.
	type bot struct {
		Name string        `json:"name"`
		Key  puppet.Secret `json:"key"`
	}
	b, err := json.Marshal(bot{Name: "b1", Key: puppet.NewSecret("puppet_padlocal_123")})
	require.NoError(t, err)
	out, err = RedactSecrets(b)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"b1","key":"[REDACTED]"}`, string(out))
	assert.NotContains(t, string(out), "padlocal")
}

// assertRedacted fails if a secret key holds anything but "[REDACTED]".
func assertRedacted(t *testing.T, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				if val != "[REDACTED]" {
					t.Fatalf("key %q kept %v", k, val)
				}
				continue
			}
			assertRedacted(t, val)
		}
	case []any:
		for _, e := range x {
			assertRedacted(t, e)
		}
	}
}

func FuzzRedactSecrets(f *testing.F) {
	for _, s := range []string{`{"token":"x"}`, `{"a":[{"PassWord":1}]}`, `{"to\u006Ben":"x"}`, `[1,"secret"]`, `{"k":"v"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		out, err := RedactSecrets(b)
		if err != nil {
			return // not one JSON value (trailing data)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || !json.Valid(out) {
			t.Fatalf("redacted %q into invalid JSON %q", b, out)
		}
		assertRedacted(t, v)
	})
}

func TestHistoryTrimsLikeTheMonitor(t *testing.T) {
	// maxAge 3, as commitExcessActions: [0 1 2] + 3 → [0 2 3], and entry 0
	// becomes the state after action 1.
	h := newHistory(3, "s0")
	h.push(1, "s1")
	h.push(2, "s2")
	assert.Equal(t, 3, h.len())
	h.push(3, "s3")
	assert.Equal(t, 3, h.len())
	for _, c := range []struct {
		id   int
		want string
		ok   bool
	}{{0, "s1", true}, {1, "", false}, {2, "s2", true}, {3, "s3", true}, {4, "", false}} {
		got, ok := h.byAction(c.id)
		assert.Equal(t, c.ok, ok, "action %d", c.id)
		assert.Equal(t, c.want, got, "action %d", c.id)
	}
	for i, want := range []string{"s1", "s2", "s3"} {
		got, ok := h.byIndex(i)
		assert.True(t, ok)
		assert.Equal(t, want, got)
	}
	_, ok := h.byIndex(3)
	assert.False(t, ok)
	_, ok = h.byIndex(-1)
	assert.False(t, ok)
	for id := 4; id < 1000; id++ {
		h.push(id, "s")
	}
	assert.Equal(t, 3, h.len(), "bounded")
	h.reset("r")
	got, ok := h.byIndex(0)
	assert.True(t, ok)
	assert.Equal(t, "r", got)
	assert.Equal(t, 1, h.len())
}
