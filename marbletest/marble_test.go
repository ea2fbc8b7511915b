package marbletest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = time.Millisecond

func ev(at time.Duration, v string) marbletest.Event {
	switch v {
	case "|":
		return marbletest.Event{At: at, Kind: marbletest.Complete}
	case "#":
		return marbletest.Event{At: at, Kind: marbletest.Error}
	}
	return marbletest.Event{At: at, Kind: marbletest.Next, Value: v}
}

func TestParse(t *testing.T) {
	tests := []struct {
		marble string
		want   []marbletest.Event
		unsub  time.Duration
	}{
		{"--a-^-b-c-|", []marbletest.Event{ev(-2*ms, "a"), ev(2*ms, "b"), ev(4*ms, "c"), ev(6*ms, "|")}, 0},
		{"a 3500ms b", []marbletest.Event{ev(0, "a"), ev(3501*ms, "b")}, 0},
		{"1000ms d 999ms d 999ms d", []marbletest.Event{ev(1000*ms, "d"), ev(2000*ms, "d"), ev(3000*ms, "d")}, 0},
		{"--(ab)-c|", []marbletest.Event{ev(2*ms, "a"), ev(2*ms, "b"), ev(7*ms, "c"), ev(8*ms, "|")}, 0},
		{"-a-#", []marbletest.Event{ev(ms, "a"), ev(3*ms, "#")}, 0},
		{" a  b ", []marbletest.Event{ev(0, "a"), ev(ms, "b")}, 0},
		{"a 1.5s b", []marbletest.Event{ev(0, "a"), ev(1501*ms, "b")}, 0},
		{"a 1m b", []marbletest.Event{ev(0, "a"), ev(time.Minute+ms, "b")}, 0},
		{"^--!", nil, 3 * ms},
		{"a10ms", []marbletest.Event{ev(0, "a"), ev(ms, "1"), ev(2*ms, "0"), ev(3*ms, "m"), ev(4*ms, "s")}, 0}, // no space: values
	}
	for _, tt := range tests {
		tl, err := marbletest.Parse(tt.marble, ms)
		require.NoError(t, err, tt.marble)
		assert.Equal(t, tt.want, tl.Events, tt.marble)
		assert.Equal(t, tt.unsub, tl.Unsubscribed, tt.marble)
	}
}

func TestParseFrameDuration(t *testing.T) {
	tl, err := marbletest.Parse("-a 2s b", time.Second)
	require.NoError(t, err)
	assert.Equal(t, []marbletest.Event{ev(time.Second, "a"), ev(4*time.Second, "b")}, tl.Events)
	assert.Equal(t, "-a--b", tl.String())
}

func TestParseErrors(t *testing.T) {
	for marble, want := range map[string]string{
		"a(b":   "unclosed group",
		"a)":    "')' without '('",
		"((a))": "nested group",
		"()":    "empty group",
		"(a-b)": "'-' inside a group",
		"^-^":   "second '^'",
		"!-!":   "second '!'",
		"a|b":   "after the end",
		"a*":    "unexpected '*'",
	} {
		_, err := marbletest.Parse(marble, ms)
		assert.ErrorIs(t, err, marbletest.ErrSyntax, marble)
		assert.ErrorContains(t, err, want, marble)
	}
	_, err := marbletest.Parse("a", 0)
	assert.ErrorIs(t, err, marbletest.ErrSyntax)
}

func TestStringRoundTrips(t *testing.T) {
	for _, marble := range []string{"--b-c-|", "a 3500ms b", "(ab)-c", "-a-#", "", "(a|)"} {
		tl := marbletest.MustParse(marble, ms)
		back := marbletest.MustParse(tl.String(), ms)
		assert.Equal(t, tl.Events, back.Events, "%q printed as %q", marble, tl.String())
	}
	assert.Equal(t, "1s d 999ms d 999ms d", marbletest.MustParse("1000ms d 999ms d 999ms d", ms).String())
}

// FuzzParse: the parser never panics, and what it parses prints to a marble
// that parses to the same events.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"--a-^-b-c-|", "a 3500ms b", "(ab)-c#", "^--!", "1.5s a", "a(b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, marble string) {
		tl, err := marbletest.Parse(marble, ms)
		if err != nil {
			return
		}
		var visible marbletest.Timeline
		visible.Frame = ms
		for _, e := range tl.Events {
			if e.At >= 0 {
				visible.Events = append(visible.Events, e)
			}
		}
		printed := visible.String()
		if strings.HasPrefix(printed, "@") || printed == "" && len(visible.Events) > 0 {
			return // no marble expresses it: the listing form is for humans
		}
		back, err := marbletest.Parse(printed, ms)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", marble, printed, err)
		}
		if len(back.Events) != len(visible.Events) {
			t.Fatalf("%q → %q: %v vs %v", marble, printed, visible.Events, back.Events)
		}
		for i := range back.Events {
			if back.Events[i] != visible.Events[i] {
				t.Fatalf("%q → %q: event %d %v vs %v", marble, printed, i, visible.Events[i], back.Events[i])
			}
		}
	})
}
