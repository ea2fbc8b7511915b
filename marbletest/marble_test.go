package marbletest_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	type tl = marbletest.Timeline
	e := func(evs ...marbletest.Event) []marbletest.Event { return evs }
	tests := []struct {
		marble string
		want   tl
	}{
		{"--a-^-b-c-|", tl{Events: e(ev(-2*ms, "a"), ev(2*ms, "b"), ev(4*ms, "c"), ev(6*ms, "|")), HasSub: true, Subscribed: 4 * ms}},
		{"a 3500ms b", tl{Events: e(ev(0, "a"), ev(3501*ms, "b"))}},
		{"1000ms d 999ms d 999ms d", tl{Events: e(ev(1000*ms, "d"), ev(2000*ms, "d"), ev(3000*ms, "d"))}},
		{"--(ab)-c|", tl{Events: e(ev(2*ms, "a"), ev(2*ms, "b"), ev(7*ms, "c"), ev(8*ms, "|"))}},
		{"-a-#", tl{Events: e(ev(ms, "a"), ev(3*ms, "#"))}},
		{" a  b ", tl{Events: e(ev(0, "a"), ev(ms, "b"))}},
		{"a 1.5s b", tl{Events: e(ev(0, "a"), ev(1501*ms, "b"))}},
		{"a 1m b", tl{Events: e(ev(0, "a"), ev(time.Minute+ms, "b"))}},
		{"a 500us b", tl{Events: e(ev(0, "a"), ev(ms+500*time.Microsecond, "b"))}},
		{"2s a", tl{Events: e(ev(2*time.Second, "a"))}},
		{"^--!", tl{HasSub: true, HasUnsub: true, Unsubscribed: 3 * ms}},
		{"--^ 10ms !", tl{HasSub: true, Subscribed: 2 * ms, HasUnsub: true, Unsubscribed: 11 * ms}},
		{"-(^!)", tl{HasSub: true, Subscribed: ms, HasUnsub: true}},
		{"a10ms", tl{Events: e(ev(0, "a"), ev(ms, "1"), ev(2*ms, "0"), ev(3*ms, "m"), ev(4*ms, "s"))}}, // no space before: values
		{"10msa", tl{Events: e(ev(0, "1"), ev(ms, "0"), ev(2*ms, "m"), ev(3*ms, "s"), ev(4*ms, "a"))}}, // no space after: values
		{"", tl{}},
		// In a group every character takes its frame, as in RxJS.
		{"400ms (a-b|)", tl{Events: e(ev(400*ms, "a"), ev(400*ms, "b"), ev(400*ms, "|"))}},
		{"(a-b)c", tl{Events: e(ev(0, "a"), ev(0, "b"), ev(5*ms, "c"))}},
		{"(a 10ms b)c", tl{Events: e(ev(0, "a"), ev(0, "b"), ev(14*ms, "c"))}},
		{"-()a", tl{Events: e(ev(3*ms, "a"))}},
		{"(-^)-!", tl{HasSub: true, HasUnsub: true, Unsubscribed: 5 * ms}},
	}
	for _, tt := range tests {
		got, err := marbletest.Parse(tt.marble, ms)
		require.NoError(t, err, tt.marble)
		tt.want.Frame = ms
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.marble, d)
		}
	}
}

func TestParseFrameDuration(t *testing.T) {
	tl, err := marbletest.Parse("-a 2s b", time.Second)
	require.NoError(t, err)
	assert.Equal(t, []marbletest.Event{ev(time.Second, "a"), ev(4*time.Second, "b")}, tl.Events)
	assert.Equal(t, "-a--b", tl.String())
}

func TestParseErrorsNameThePosition(t *testing.T) {
	tests := []struct {
		marble string
		pos    int
		msg    string
	}{
		{"a(b", 1, "unclosed group"},
		{"a)", 1, "')' without '('"},
		{"((a))", 1, "nested group"},
		{"^-^", 2, "second '^'"},
		{"!-!", 2, "second '!'"},
		{"a|b", 2, "'b' after the end"},
		{"a#|", 2, "'|' after the end"},
		{"a*", 1, "unexpected '*'"},
		{"ab é", 3, "unexpected"},
		{"a 99999999999999999999999999m", 2, "too long"},
		{"100000000m 100000000m", 11, "longer than"},
	}
	for _, tt := range tests {
		_, err := marbletest.Parse(tt.marble, ms)
		assert.ErrorIs(t, err, marbletest.ErrSyntax, tt.marble)
		var se *marbletest.SyntaxError
		if assert.True(t, errors.As(err, &se), tt.marble) {
			assert.Equal(t, tt.pos, se.Pos, tt.marble)
			assert.Contains(t, se.Msg, tt.msg, tt.marble)
		}
		assert.True(t, strings.HasPrefix(err.Error(), "marbletest: bad marble at "), err.Error())
	}
	_, err := marbletest.Parse("a", 0)
	assert.ErrorIs(t, err, marbletest.ErrSyntax)
	_, err = marbletest.Parse(strings.Repeat("-", 1<<17), ms)
	assert.ErrorContains(t, err, "longer than")
}

func TestStringPrintsTheMarble(t *testing.T) {
	for marble, want := range map[string]string{
		"--a-^-b-c-|":              "--a-^-b-c-|",
		"1000ms d 999ms d 999ms d": "1s d 999ms d 999ms d",
		"a 3500ms b":               "a 3500ms b",
		"(ab)-c":                   "(ab)-c",
		"a 1m 10ms b":              "a 60010ms b",
		"a 0.5ms b":                "a 500us b",
		"--^--!":                   "--^--!",
		"^ 10ms !":                 "^----------!",
		"-(^!)":                    "-(^!)",
		"":                         "",
	} {
		assert.Equal(t, want, marbletest.MustParse(marble, ms).String(), marble)
	}
}

func TestStringKeepsDigitsFromReadingAsTime(t *testing.T) {
	// The values 1 and m after a long gap: "a 99ms 1m 198ms b" would read
	// "1m" as a minute.
	tl := marbletest.Timeline{Frame: ms, Events: []marbletest.Event{ev(0, "a"), ev(100*ms, "1"), ev(101*ms, "m"), ev(300*ms, "b")}}
	printed := tl.String()
	assert.Equal(t, "a 99ms 1m- 197ms b", printed)
	assert.Equal(t, tl.Events, marbletest.MustParse(printed, ms).Events)

	end := marbletest.Timeline{Frame: ms, Events: []marbletest.Event{ev(100*ms, "2"), ev(101*ms, "s")}}
	assert.Equal(t, "100ms 2s-", end.String())
	assert.Equal(t, end.Events, marbletest.MustParse(end.String(), ms).Events)
}

func TestStringListsWhatNoMarbleExpresses(t *testing.T) {
	tl := marbletest.Timeline{Frame: ms, Events: []marbletest.Event{ev(0, "a"), ev(0, "b"), ev(ms, "c")}}
	assert.Equal(t, "@0s a; @0s b; @1ms c", tl.String(), "a group takes four frames: c cannot follow one frame later")
	neg := marbletest.Timeline{Frame: ms, Events: []marbletest.Event{ev(-ms, "a")}}
	assert.Equal(t, "@-1ms a", neg.String(), "before zero without ^")
}

func TestFormatDurationParsesBack(t *testing.T) {
	for _, d := range []time.Duration{time.Minute, 90 * time.Second, 1500 * ms, 1500 * time.Microsecond, 1500, 1, 1001} {
		tl := marbletest.MustParse("a "+marbletest.FormatDuration(d)+" b", ms)
		assert.Equal(t, ms+d, tl.Events[1].At, marbletest.FormatDuration(d))
	}
}

var progressionLike = regexp.MustCompile(`[0-9][ums]`)

// FuzzParse: the parser never panics, and what it parses prints to a
// marble that parses back to the same timeline.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"--a-^-b-c-|", "a 3500ms b", "(ab)-c#", "^--!", "1.5s a", "a(b", "x 1m 10ms (^!)", "a 99ms 1m 5ms b", "10ms", "a 0.0000001us b", "400ms (a-b|)", "(a 10ms b)c", "-()a", "(-^)-!"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, marble string, frameExp uint8) {
		frame := ms
		if frameExp%3 == 1 {
			frame = time.Second
		} else if frameExp%3 == 2 {
			frame = 7 * time.Microsecond
		}
		tl, err := marbletest.Parse(marble, frame)
		if err != nil {
			if !errors.Is(err, marbletest.ErrSyntax) || !strings.HasPrefix(err.Error(), "marbletest: ") {
				t.Fatalf("%q: error %v does not wrap ErrSyntax", marble, err)
			}
			return
		}
		printed := tl.String()
		if strings.HasPrefix(printed, "@") && !progressionLike.MatchString(marble) {
			// Only values that spell a time progression before a gap of
			// less than a frame have no marble; anything else must print.
			t.Fatalf("%q parsed but printed as a listing %q", marble, printed)
		}
		if strings.HasPrefix(printed, "@") {
			return
		}
		back, err := marbletest.Parse(printed, frame)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", marble, printed, err)
		}
		if d := cmp.Diff(tl, back); d != "" {
			t.Fatalf("%q printed as %q reads back differently (-first +second):\n%s", marble, printed, d)
		}
	})
}
