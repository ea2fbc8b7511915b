package marbletest

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// ErrSyntax is wrapped by every marble parse error.
var ErrSyntax = errors.New("marbletest: bad marble")

// SyntaxError is a malformed marble: it names the byte offset where the
// parser stopped and why. It wraps ErrSyntax.
type SyntaxError struct {
	Marble string // the whole marble
	Pos    int    // byte offset in Marble
	Msg    string // what is wrong there
}

// Error renders the error with the marble and a caret under the position.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v at %d in %q: %s", ErrSyntax, e.Pos, e.Marble, e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Kind tells timeline events apart.
type Kind int

// Event kinds.
const (
	Next     Kind = iota // a value
	Complete             // |
	Error                // #
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Next:
		return "next"
	case Complete:
		return "complete"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is one thing on a timeline, at a time relative to the subscription
// point (negative before a hot source's ^).
type Event struct {
	At    time.Duration
	Kind  Kind
	Value string // the marble character for Next
}

// Symbol is the event's marble character: its value, "|" or "#".
func (e Event) Symbol() string {
	switch e.Kind {
	case Complete:
		return "|"
	case Error:
		return "#"
	}
	return e.Value
}

// Timeline is a parsed marble diagram.
type Timeline struct {
	// Events in marble order: by time, and in a group in written order.
	Events []Event
	// HasSub reports whether the marble had a ^; times are relative to it,
	// and Subscribed is its offset from the start of the marble.
	HasSub     bool
	Subscribed time.Duration
	// HasUnsub reports whether the marble had a !, and Unsubscribed is its
	// time, relative to the subscription point.
	HasUnsub     bool
	Unsubscribed time.Duration
	// Frame is the duration of one marble character.
	Frame time.Duration
}

// maxMarble bounds the input, so a fuzzer or a typo cannot make the parser
// allocate without limit.
const maxMarble = 1 << 16

// Parse reads a marble diagram with frames of the given duration:
//
//	marble   meaning
//	-        one frame passes
//	a        a value (a letter or a digit), one frame
//	|        complete, one frame
//	#        error, one frame
//	(ab)     a and b in the same frame; the group takes up its
//	         characters' frames, so "(ab)" takes four, "(a-b)" five, and
//	         "(a 10ms b)" fourteen (1 ms frames), as in RxJS
//	^        the subscription point of a hot source (time zero), one frame
//	!        unsubscription, one frame; "(^!)" both in one frame
//	space    ignored, except around a time progression
//	10ms     time passes: a number (decimals allowed) and a unit, us, ms,
//	         s or m, at the start or after a space, and followed by a
//	         space or the end: "a 10ms b", "1.5s a", "( 10ms a)"
//
// Times are relative to ^ when present, else to the start. A malformed
// marble returns a *SyntaxError naming the position.
func Parse(marble string, frame time.Duration) (Timeline, error) {
	fail := func(pos int, format string, args ...any) (Timeline, error) {
		return Timeline{}, &SyntaxError{Marble: marble, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	if frame <= 0 {
		return fail(0, "frame %v must be positive", frame)
	}
	if len(marble) > maxMarble {
		return fail(maxMarble, "longer than %d bytes", maxMarble)
	}
	tl := Timeline{Frame: frame}
	var now, sub time.Duration
	advance := func(d time.Duration) bool {
		if now > math.MaxInt64-d {
			return false
		}
		now += d
		return true
	}
	tooLong := func(i int) (Timeline, error) {
		return fail(i, "the timeline is longer than %v", time.Duration(math.MaxInt64))
	}
	// In a group, every character still takes its frame (and a time
	// progression its time), but what happens there happens at the
	// group's first frame: "(a-b)c" puts a and b at 0 and c at 5.
	inGroup, groupStart := false, 0
	var groupAt time.Duration
	ended := false
	for i := 0; i < len(marble); {
		c := marble[i]
		d, n, err := progressionAt(marble, i)
		if err != "" {
			return fail(i, "%s", err)
		}
		if n > 0 {
			if !advance(d) {
				return tooLong(i)
			}
			i += n
			continue
		}
		at := now
		if inGroup {
			at = groupAt
		}
		switch {
		case c == ' ':
			i++
			continue
		case c == '-':
		case c == '(':
			if inGroup {
				return fail(i, "nested group")
			}
			inGroup, groupStart, groupAt = true, i, now
		case c == ')':
			if !inGroup {
				return fail(i, "')' without '('")
			}
			inGroup = false
		case c == '^':
			if tl.HasSub {
				return fail(i, "second '^'")
			}
			tl.HasSub, sub = true, at
		case c == '!':
			if tl.HasUnsub {
				return fail(i, "second '!'")
			}
			tl.HasUnsub, tl.Unsubscribed = true, at
		case c == '|' || c == '#' || isValue(c):
			if ended {
				return fail(i, "%q after the end of the stream", c)
			}
			e := Event{At: at, Kind: Next, Value: string(c)}
			switch c {
			case '|':
				e = Event{At: at, Kind: Complete}
				ended = true
			case '#':
				e = Event{At: at, Kind: Error}
				ended = true
			}
			tl.Events = append(tl.Events, e)
		default:
			return fail(i, "unexpected %q (values are letters and digits)", rune(c))
		}
		if !advance(frame) {
			return tooLong(i)
		}
		i++
	}
	if inGroup {
		return fail(groupStart, "unclosed group")
	}
	if tl.HasSub {
		for i := range tl.Events {
			tl.Events[i].At -= sub
		}
		if tl.HasUnsub {
			tl.Unsubscribed -= sub
		}
		tl.Subscribed = sub
	}
	return tl, nil
}

// units of a time progression, longest suffix first where they overlap.
var units = []struct {
	name string
	d    time.Duration
}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}}

// progressionAt reads a time progression ("10ms", "2s", "1.5m", "500us")
// at s[i]. It needs a space or the start before it and a space or the end
// after it; otherwise its characters are values and n is 0. A progression
// too long to represent is an error (a non-empty message).
func progressionAt(s string, i int) (d time.Duration, n int, err string) {
	if c := s[i]; c < '0' || c > '9' || (i > 0 && s[i-1] != ' ') {
		return 0, 0, ""
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	intPart, frac := s[i:j], ""
	if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		frac, j = s[j+1:k], k
	}
	for _, u := range units {
		end := j + len(u.name)
		if !strings.HasPrefix(s[j:], u.name) || (end != len(s) && s[end] != ' ') {
			continue
		}
		d, ok := decimalDuration(intPart, frac, u.d)
		if !ok {
			return 0, 0, fmt.Sprintf("time progression %q is too long", s[i:end])
		}
		return d, end - i, ""
	}
	return 0, 0, ""
}

// decimalDuration computes int.frac × unit exactly, to the nanosecond
// (what lies below a nanosecond is dropped). ok is false on overflow.
func decimalDuration(intPart, frac string, unit time.Duration) (time.Duration, bool) {
	if len(intPart) > 25 {
		return 0, false // more than 10^25 of any unit overflows
	}
	if len(frac) > 30 {
		frac = frac[:30] // far below a nanosecond for every unit
	}
	n, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return 0, false
	}
	n.Mul(n, big.NewInt(int64(unit)))
	n.Quo(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
	if !n.IsInt64() {
		return 0, false
	}
	return time.Duration(n.Int64()), true
}

func isValue(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// MustParse is Parse for marbles written as constants in tests: it panics
// on a malformed marble. Code that reads marbles from outside uses Parse.
func MustParse(marble string, frame time.Duration) Timeline {
	tl, err := Parse(marble, frame)
	if err != nil {
		panic(err)
	}
	return tl
}

// String prints the timeline as a marble diagram that Parse reads back to
// the same timeline: gaps of up to ten frames as dashes, longer or
// fractional gaps as time progressions, events of one instant as a group,
// ^ and ! where they were. A timeline no marble can express (two instants
// closer than a group allows, events before the start, less than a frame
// after digit values that read as a time progression, such as "0m") is
// printed as a listing "@time event; …" instead, for humans.
func (tl Timeline) String() string {
	frame := tl.Frame
	if frame <= 0 {
		frame = time.Millisecond
	}
	type mark struct {
		at  time.Duration
		sym string // "^", "!", or an event symbol
	}
	var marks []mark
	for _, e := range tl.Events {
		marks = append(marks, mark{e.At, e.Symbol()})
	}
	if tl.HasSub {
		marks = append(marks, mark{0, "^"})
	}
	if tl.HasUnsub {
		marks = append(marks, mark{tl.Unsubscribed, "!"})
	}
	slices.SortStableFunc(marks, func(a, b mark) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	var b strings.Builder
	var now time.Duration
	if tl.HasSub {
		now = -tl.Subscribed
	}
	for i := 0; i < len(marks); {
		at := marks[i].at
		j := i
		for j < len(marks) && marks[j].at == at {
			j++
		}
		group := marks[i:j]
		if at < now {
			return tl.listing()
		}
		if !writeGap(&b, at-now, frame) {
			return tl.listing()
		}
		if len(group) == 1 {
			b.WriteString(group[0].sym)
			now = at + frame
		} else {
			b.WriteByte('(')
			for _, m := range group {
				b.WriteString(m.sym)
			}
			b.WriteByte(')')
			now = at + time.Duration(len(group)+2)*frame
		}
		i = j
	}
	if lastWordIsProgression(b.String()) {
		b.WriteByte('-') // "… 1m" would read as a time progression
	}
	return b.String()
}

// writeGap writes d of silence: dashes for up to ten whole frames, else a
// time progression between spaces. It returns false when no marble can
// write it: less than a frame right after values that read as a time
// progression ("0m" then 1 ms with frames of 1 s).
func writeGap(b *strings.Builder, d, frame time.Duration) bool {
	if d == 0 {
		return true
	}
	if d%frame == 0 && d/frame <= 10 {
		b.WriteString(strings.Repeat("-", int(d/frame)))
		return true
	}
	if b.Len() > 0 {
		if lastWordIsProgression(b.String()) {
			// Values such as "1m" right before the space would read as
			// a time progression: a dash breaks the word, and the
			// progression is one frame shorter.
			if d < frame {
				return false
			}
			b.WriteByte('-')
			d -= frame
			if d == 0 {
				return true
			}
			if d%frame == 0 && d/frame <= 10 {
				b.WriteString(strings.Repeat("-", int(d/frame)))
				return true
			}
		}
		b.WriteByte(' ')
	}
	b.WriteString(FormatDuration(d))
	b.WriteByte(' ')
	return true
}

// lastWordIsProgression reports whether the text after the last space of s
// would parse as a time progression.
func lastWordIsProgression(s string) bool {
	i := strings.LastIndexByte(s, ' ') + 1
	if i >= len(s) {
		return false
	}
	_, n, err := progressionAt(s, i)
	return n == len(s)-i || err != ""
}

func (tl Timeline) listing() string {
	var b strings.Builder
	for _, e := range tl.Events {
		fmt.Fprintf(&b, "@%v %s; ", e.At, e.Symbol())
	}
	if tl.HasSub {
		b.WriteString("@0s ^; ")
	}
	if tl.HasUnsub {
		fmt.Fprintf(&b, "@%v !; ", tl.Unsubscribed)
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// FormatDuration writes d as a marble time progression ("3500ms", "2s",
// "1m", "1.5ms") that parses back to exactly d.
func FormatDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d%time.Microsecond == 0:
		return fmt.Sprintf("%dus", d/time.Microsecond)
	}
	// Nanoseconds: a decimal number of microseconds, exact.
	frac := strings.TrimRight(fmt.Sprintf("%03d", d%time.Microsecond), "0")
	return fmt.Sprintf("%d.%sus", d/time.Microsecond, frac)
}
