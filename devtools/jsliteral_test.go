package devtools

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsCase is one literal of testdata/jsliteral/cases.json. Refuse, when
// set, says why the decoder rejects a literal that JavaScript accepts (an
// expression, a number that is not finite…).
type jsCase struct {
	Src    string `json:"src"`
	Refuse string `json:"refuse"`
}

// jsGolden is what Node made of a case (testdata/jsliteral/eval.mjs):
// JSON.stringify's output, or the name of the error it threw.
type jsGolden struct {
	Src       string  `json:"src"`
	JSON      *string `json:"json"`
	Error     string  `json:"error"`
	Undefined bool    `json:"undefined"`
}

const jsliteralDir = "testdata/jsliteral"

func loadJSON[T any](t *testing.T, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(jsliteralDir, name))
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(b, &v), name)
	return v
}

// TestJSLiteralMatchesNode: for every literal of the table, the decoder
// fails where JavaScript fails, and otherwise writes what JSON.stringify
// writes, byte for byte, unless the table says why it refuses.
func TestJSLiteralMatchesNode(t *testing.T) {
	cases := loadJSON[[]jsCase](t, "cases.json")
	golden := loadJSON[[]jsGolden](t, "golden.json")
	require.Len(t, golden, len(cases), "golden.json is out of date: run eval.mjs (see its header)")
	for i, c := range cases {
		g := golden[i]
		require.Equal(t, c.Src, g.Src, "golden.json is out of date at case %d: run eval.mjs (see its header)", i)
		got, err := jsLiteralToJSON(c.Src)
		switch {
		case g.Error != "":
			assert.Empty(t, c.Refuse, "case %d %q: JavaScript refuses it too (%s): drop refuse", i, c.Src, g.Error)
			assert.ErrorIs(t, err, ErrBadFrame, "case %d %q: JavaScript throws %s; we made %s", i, c.Src, g.Error, got)
		case c.Refuse != "":
			assert.ErrorIs(t, err, ErrBadFrame, "case %d %q is refused (%s); we made %s", i, c.Src, c.Refuse, got)
		case g.Undefined:
			if assert.NoError(t, err, "case %d %q", i, c.Src) {
				assert.Equal(t, "null", string(got), "case %d %q: undefined", i, c.Src)
			}
		default:
			if assert.NoError(t, err, "case %d %q: JavaScript makes %s", i, c.Src, *g.JSON) {
				assert.Equal(t, *g.JSON, string(got), "case %d %q", i, c.Src)
			}
		}
		if err != nil && !errors.Is(err, ErrBadFrame) {
			t.Errorf("case %d %q: error %v does not wrap ErrBadFrame", i, c.Src, err)
		}
	}
}
