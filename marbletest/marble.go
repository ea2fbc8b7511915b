package marbletest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is wrapped by every marble parse error.
var ErrSyntax = errors.New("marbletest: bad marble")

// Kind tells timeline events apart.
type Kind int

// Event kinds.
const (
	Next     Kind = iota // a value
	Complete             // |
	Error                // #
)

// Event is one thing on a timeline, at a time relative to the subscription
// point (negative before a hot source's ^).
type Event struct {
	At    time.Duration
	Kind  Kind
	Value string // the marble character for Next
}

// Timeline is a parsed marble diagram.
type Timeline struct {
	Events []Event
	// Subscribed and Unsubscribed are the times of ^ and !, relative to the
	// subscription point; HasUnsub reports whether ! was present.
	Unsubscribed time.Duration
	HasUnsub     bool
	// Frame is the duration of one marble character.
	Frame time.Duration
}

var progression = regexp.MustCompile(`^(\d+(?:\.\d+)?)(ms|s|m)`)

// Parse reads a marble diagram with frames of the given duration.
//
//   - one frame passes
//     a        a value (any letter or digit), one frame
//     |        complete, one frame
//     #        error, one frame
//     (ab)     a and b in the same frame; the group takes up its characters' frames
//     ^        the subscription point of a hot source (time zero), one frame
//     !        unsubscription, one frame
//     space    ignored, except around a time progression
//     10ms     time passes (also 2s, 1m, 1.5s), written between spaces
//
// Times are relative to ^ when present, else to the start.
func Parse(marble string, frame time.Duration) (Timeline, error) {
	if frame <= 0 {
		return Timeline{}, fmt.Errorf("%w: frame %v must be positive", ErrSyntax, frame)
	}
	tl := Timeline{Frame: frame}
	var now time.Duration
	sub := time.Duration(0)
	hasSub := false
	var group *[]Event
	groupStart := 0
	ended := false
	for i := 0; i < len(marble); {
		c := marble[i]
		if d, n, ok := progressionAt(marble, i); ok && group == nil {
			now += d
			i += n
			continue
		}
		switch {
		case c == ' ':
		case c == '-':
			if group != nil {
				return Timeline{}, fmt.Errorf("%w at %d: '-' inside a group", ErrSyntax, i)
			}
			now += frame
		case c == '(':
			if group != nil {
				return Timeline{}, fmt.Errorf("%w at %d: nested group", ErrSyntax, i)
			}
			group = &[]Event{}
			groupStart = i
		case c == ')':
			if group == nil {
				return Timeline{}, fmt.Errorf("%w at %d: ')' without '('", ErrSyntax, i)
			}
			if len(*group) == 0 {
				return Timeline{}, fmt.Errorf("%w at %d: empty group", ErrSyntax, groupStart)
			}
			tl.Events = append(tl.Events, (*group)...)
			now += time.Duration(len(*group)+2) * frame // "(", the values, ")"
			group = nil
		case c == '^':
			if group != nil || hasSub {
				return Timeline{}, fmt.Errorf("%w at %d: misplaced or second '^'", ErrSyntax, i)
			}
			hasSub, sub = true, now
			now += frame
		case c == '!':
			if group != nil || tl.HasUnsub {
				return Timeline{}, fmt.Errorf("%w at %d: misplaced or second '!'", ErrSyntax, i)
			}
			tl.HasUnsub, tl.Unsubscribed = true, now
			now += frame
		case c == '|' || c == '#' || isValue(c):
			if ended {
				return Timeline{}, fmt.Errorf("%w at %d: %q after the end of the stream", ErrSyntax, i, c)
			}
			e := Event{At: now, Kind: Next, Value: string(c)}
			switch c {
			case '|':
				e = Event{At: now, Kind: Complete}
				ended = true
			case '#':
				e = Event{At: now, Kind: Error}
				ended = true
			}
			if group != nil {
				*group = append(*group, e)
			} else {
				tl.Events = append(tl.Events, e)
				now += frame
			}
		default:
			return Timeline{}, fmt.Errorf("%w at %d: unexpected %q", ErrSyntax, i, c)
		}
		i++
	}
	if group != nil {
		return Timeline{}, fmt.Errorf("%w at %d: unclosed group", ErrSyntax, groupStart)
	}
	if hasSub {
		for i := range tl.Events {
			tl.Events[i].At -= sub
		}
		if tl.HasUnsub {
			tl.Unsubscribed -= sub
		}
	}
	return tl, nil
}

// progressionAt reads a time progression ("10ms", "2s", "1.5m") starting
// at s[i], which must open a space-delimited word. It returns the duration
// and the length read.
func progressionAt(s string, i int) (time.Duration, int, bool) {
	if c := s[i]; c < '0' || c > '9' || (i > 0 && s[i-1] != ' ') {
		return 0, 0, false
	}
	m := progression.FindStringSubmatch(s[i:])
	if m == nil {
		return 0, 0, false
	}
	if end := i + len(m[0]); end != len(s) && s[end] != ' ' {
		return 0, 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, 0, false
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute}[m[2]]
	return time.Duration(n * float64(unit)), len(m[0]), true
}

func isValue(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// MustParse is Parse that panics, for marbles written in tests.
func MustParse(marble string, frame time.Duration) Timeline {
	tl, err := Parse(marble, frame)
	if err != nil {
		panic(err)
	}
	return tl
}

// String prints the timeline as a marble diagram from time zero (events
// before zero, from a hot source's past, are left out). Gaps of more than
// ten frames are written as time progressions. A timeline no marble can
// express (two events closer than a group allows, digits that read as a
// time progression) is printed as a listing "@time event; …" instead.
func (tl Timeline) String() string {
	frame := tl.Frame
	if frame <= 0 {
		frame = time.Millisecond
	}
	evs := slices.Clone(tl.Events)
	slices.SortStableFunc(evs, func(a, b Event) int { return int(a.At - b.At) })
	var b strings.Builder
	var now time.Duration
	for i := 0; i < len(evs); {
		at := evs[i].At
		if at < 0 {
			i++
			continue
		}
		j := i
		for j < len(evs) && evs[j].At == at {
			j++
		}
		if at < now || (at-now)%frame != 0 {
			return tl.listing()
		}
		gap := int((at - now) / frame)
		if gap > 10 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(formatDuration(at - now))
			b.WriteByte(' ')
		} else {
			b.WriteString(strings.Repeat("-", gap))
		}
		if j-i == 1 {
			b.WriteString(evs[i].symbol())
			now = at + frame
		} else {
			b.WriteByte('(')
			for _, e := range evs[i:j] {
				b.WriteString(e.symbol())
			}
			b.WriteByte(')')
			now = at + time.Duration(j-i+2)*frame
		}
		i = j
	}
	// Digit values can spell a time progression ("0m"); when the marble
	// would read back differently, print the unambiguous listing instead.
	out := b.String()
	if back, err := Parse(out, frame); err != nil || !sameEvents(back.Events, evs) {
		return tl.listing()
	}
	return out
}

func sameEvents(a, b []Event) bool {
	var bb []Event
	for _, e := range b {
		if e.At >= 0 {
			bb = append(bb, e)
		}
	}
	return slices.Equal(a, bb)
}

func (e Event) symbol() string {
	switch e.Kind {
	case Complete:
		return "|"
	case Error:
		return "#"
	}
	return e.Value
}

func (tl Timeline) listing() string {
	var b strings.Builder
	for _, e := range tl.Events {
		fmt.Fprintf(&b, "@%v %s; ", e.At, e.symbol())
	}
	return strings.TrimSuffix(b.String(), "; ")
}

func formatDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%gms", float64(d)/float64(time.Millisecond))
}
