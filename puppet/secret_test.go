package puppet_test

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretVerbs are the fmt verbs, with flags, widths and precisions, that a
// secret is printed with in the leak tests.
var secretVerbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%#q", "%+q", "%x", "%X", "% x", "%#x", "%# X",
	"%d", "%+d", "%b", "%o", "%O", "%c", "%U", "%#U", "%e", "%E", "%f", "%F", "%g",
	"%G", "%t", "%p", "%T", "%10v", "%-20s", "%.4s", "%.4q", "%08x", "%w", "%z",
}

// Types that hold a secret in unexported places, which fmt prints by
// reflection without calling the secret's methods.
type (
	hidden       struct{ token puppet.Secret }
	hiddenConfig struct{ cfg puppet.Config }
	hiddenSlice  struct{ toks []puppet.Secret }
	hiddenMap    struct{ m map[string]puppet.Secret }
	hiddenAny    struct{ v any }
	hiddenDeep   struct{ outer struct{ inner hidden } }
	hiddenPtr    struct{ p *puppet.Secret }
	embedded     struct{ puppet.Secret }
	exported     struct {
		Name  string
		Token puppet.Secret
	}
)

// secretNestings are the places a secret is printed from.
var secretNestings = []struct {
	name string
	wrap func(puppet.Secret) any
}{
	{"value", func(s puppet.Secret) any { return s }},
	{"pointer", func(s puppet.Secret) any { return &s }},
	{"slice", func(s puppet.Secret) any { return []puppet.Secret{s} }},
	{"array", func(s puppet.Secret) any { return [1]puppet.Secret{s} }},
	{"map value", func(s puppet.Secret) any { return map[string]puppet.Secret{"k": s} }},
	{"map key", func(s puppet.Secret) any { return map[puppet.Secret]int{s: 1} }},
	{"Config", func(s puppet.Secret) any { return puppet.Config{Name: "x#0", Token: s} }},
	{"*Config", func(s puppet.Secret) any { return &puppet.Config{Name: "x#0", Token: s} }},
	{"[]Config", func(s puppet.Secret) any { return []puppet.Config{{Token: s}} }},
	{"exported field", func(s puppet.Secret) any { return exported{Name: "n", Token: s} }},
	{"embedded", func(s puppet.Secret) any { return embedded{s} }},
	{"[]any", func(s puppet.Secret) any { return []any{s} }},
	{"unexported field", func(s puppet.Secret) any { return hidden{s} }},
	{"*unexported field", func(s puppet.Secret) any { return &hidden{s} }},
	{"unexported Config", func(s puppet.Secret) any { return hiddenConfig{puppet.Config{Token: s}} }},
	{"unexported slice", func(s puppet.Secret) any { return hiddenSlice{[]puppet.Secret{s}} }},
	{"unexported map", func(s puppet.Secret) any { return hiddenMap{map[string]puppet.Secret{"k": s}} }},
	{"unexported any", func(s puppet.Secret) any { return hiddenAny{s} }},
	{"unexported deep", func(s puppet.Secret) any { return hiddenDeep{outer: struct{ inner hidden }{hidden{s}}} }},
	{"unexported pointer", func(s puppet.Secret) any { return hiddenPtr{&s} }},
}

// secretPrinters are the ways a value leaves the process as text, besides
// fmt verbs: encoding/json, encoding/xml, encoding/gob, the slog handlers.
// An encoder may refuse a value (xml has no maps); what it writes counts.
var secretPrinters = []struct {
	name  string
	print func(any) string
}{
	{"json", func(v any) string { b, _ := json.Marshal(v); return string(b) }},
	{"xml", func(v any) string { b, _ := xml.Marshal(v); return string(b) }},
	{"gob", func(v any) string {
		var buf bytes.Buffer
		_ = gob.NewEncoder(&buf).Encode(v)
		return buf.String()
	}},
	{"slog text", func(v any) string {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", v)
		return buf.String()
	}},
	{"slog json", func(v any) string {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
		return buf.String()
	}},
	{"Sprint", func(v any) string { return fmt.Sprint(v) }},
	{"Sprintln", func(v any) string { return fmt.Sprintln(v) }},
	{"Errorf %w", func(v any) string { return fmt.Errorf("e: %v", v).Error() }},
}

// renderings are every form of a token the tests look for: raw, hex in
// both cases, Go-quoted, as a list of bytes, base64.
func renderings(tok string) []string {
	q := strconv.Quote(tok)
	b := fmt.Sprint([]byte(tok))
	return []string{
		tok, hex.EncodeToString([]byte(tok)), strings.ToUpper(hex.EncodeToString([]byte(tok))),
		q[1 : len(q)-1], b[1 : len(b)-1], base64.StdEncoding.EncodeToString([]byte(tok)),
	}
}

// leaks reports the renderings of tok found in out but not in control,
// the same printing of a different token (so that a token that happens to
// be part of every printing, say "puppet", is no leak).
func leaks(tok, out, control string) []string {
	var found []string
	for _, r := range renderings(tok) {
		if r != "" && strings.Contains(out, r) && !strings.Contains(control, r) {
			found = append(found, r)
		}
	}
	return found
}

// printSecret prints the secret tok nested as n with printer i: a verb
// (i < len(secretVerbs)), then the other printers.
func printSecret(tok string, n, i int) (what, out string) {
	v := secretNestings[n].wrap(puppet.NewSecret(tok))
	if i < len(secretVerbs) {
		return secretNestings[n].name + " " + secretVerbs[i], fmt.Sprintf(secretVerbs[i], v)
	}
	p := secretPrinters[i-len(secretVerbs)]
	return secretNestings[n].name + " " + p.name, p.print(v)
}

const controlToken = "\x01control~token\x02"

func TestSecretPrintsRedactedEverywhere(t *testing.T) {
	const tok = "hunter2-s3cret"
	var leaked []string
	total := 0
	for n := range secretNestings {
		for i := range len(secretVerbs) + len(secretPrinters) {
			what, out := printSecret(tok, n, i)
			_, control := printSecret(controlToken, n, i)
			total++
			if l := leaks(tok, out, control); len(l) > 0 {
				leaked = append(leaked, fmt.Sprintf("%s: %q", what, out))
			}
		}
	}
	assert.Empty(t, leaked, "%d of %d printings show the token", len(leaked), total)

	s := puppet.NewSecret(tok)
	assert.Equal(t, tok, s.Reveal())
	assert.False(t, s.IsZero())
	assert.True(t, puppet.Secret{}.IsZero())
	assert.True(t, puppet.NewSecret("").IsZero())
	assert.Equal(t, "", puppet.Secret{}.Reveal())
}

func TestSecretEncodings(t *testing.T) {
	s := puppet.NewSecret("hunter2-s3cret")
	assert.Equal(t, "[REDACTED]", s.String())
	assert.Equal(t, "[REDACTED]", fmt.Sprintf("%d", s))
	assert.Equal(t, `"[REDACTED]"`, fmt.Sprintf("%q", s))
	b, err := json.Marshal(map[string]any{"token": s})
	require.NoError(t, err)
	assert.JSONEq(t, `{"token":"[REDACTED]"}`, string(b))
	text, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "[REDACTED]", string(text))
	assert.Equal(t, "[REDACTED]", slog.AnyValue(s).Resolve().String())

	// gob: a Config travels without its token, and a redacted token never
	// decodes into a Secret.
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(puppet.Config{Name: "x#0", Token: s}))
	assert.NotContains(t, buf.String(), "hunter2")
	var back puppet.Config
	assert.ErrorIs(t, gob.NewDecoder(&buf).Decode(&back), puppet.ErrSecretDecode)
}

func TestSecretEqual(t *testing.T) {
	a, b := puppet.NewSecret("one"), puppet.NewSecret("one")
	assert.True(t, a.Equal(b))
	assert.False(t, a.Equal(puppet.NewSecret("two")))
	assert.True(t, puppet.Secret{}.Equal(puppet.NewSecret("")))
}

// FuzzSecretNeverPrints prints fuzzed tokens under every verb, nesting and
// printer: no rendering of the token ever appears.
func FuzzSecretNeverPrints(f *testing.F) {
	for _, tok := range []string{"hunter2-s3cret", "insecure_4711", "tok with spaces", "é€\x00\xff", "Wechaty abc"} {
		for i := range len(secretVerbs) + len(secretPrinters) {
			f.Add(tok, uint8(i), uint8(i%len(secretNestings)))
		}
	}
	f.Fuzz(func(t *testing.T, tok string, verb, nesting uint8) {
		// A short token, or one spelled only with the characters of a
		// pointer address, could appear by chance in an address.
		if len(tok) < 6 || strings.Trim(tok, "0123456789abcdefABCDEFxXo") == "" {
			t.Skip()
		}
		n := int(nesting) % len(secretNestings)
		i := int(verb) % (len(secretVerbs) + len(secretPrinters))
		what, out := printSecret(tok, n, i)
		_, control := printSecret(controlToken, n, i)
		if l := leaks(tok, out, control); len(l) > 0 {
			t.Fatalf("%s shows %q: %q", what, l, out)
		}
		if got := puppet.NewSecret(tok).Reveal(); got != tok {
			t.Fatalf("Reveal = %q, want %q", got, tok)
		}
	})
}
