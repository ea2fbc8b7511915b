package devtools

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicky is a state whose JSON encoding panics.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("state boom") }

// A redactor or a MarshalJSON that panics fails that message with an
// error, as one that returns an error does; it never ends the process.
func TestEncodePanicsAreErrors(t *testing.T) {
	boom := WithRedactor(func([]byte) ([]byte, error) { panic("redactor boom") })
	for name, tc := range map[string]struct {
		opts  []Option
		state any
	}{
		"redactor":    {opts: []Option{boom}, state: 1},
		"MarshalJSON": {state: panicky{}},
	} {
		st, err := store.New(func(s any, _ actions.Action) any { return s }, tc.state)
		require.NoError(t, err)
		cfg, err := newConfig(tc.opts)
		require.NoError(t, err)
		c := newCore(st, cfg)
		var out string
		require.NotPanics(t, func() { out, err = c.encode(tc.state) }, name)
		assert.ErrorContains(t, err, "panicked", name)
		assert.Empty(t, out, name)
		st.Stop()
	}
}
