package marbletest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hawechaty/hawechaty/actions"
)

// cmpOptions compare actions without their metadata (time, source and
// sequence are the store's business) and look into unexported fields, so
// that states and payloads of any type compare without a panic.
var cmpOptions = cmp.Options{
	cmpopts.IgnoreFields(actions.Action{}, "Meta"),
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmpopts.EquateErrors(),
}

// recorded is one thing the code under test did, at a virtual time.
type recorded struct {
	at   time.Duration
	kind Kind
	v    any
	err  error
}

// comparison is an expected marble against what was recorded.
type comparison struct {
	what    string // "epic output", "store actions", …
	want    Timeline
	got     []recorded
	values  map[string]any // letter → value
	ordered bool
	wantErr error // nil: any error matches #
}

func (c *comparison) equal(w Event, g recorded) bool {
	if w.Kind != g.kind {
		return false
	}
	switch w.Kind {
	case Next:
		v, ok := c.values[w.Value]
		return ok && cmp.Equal(v, g.v, cmpOptions)
	case Error:
		return c.wantErr == nil || errors.Is(g.err, c.wantErr) || g.err != nil && g.err.Error() == c.wantErr.Error()
	}
	return true
}

// letterFor finds the first letter (in sorted order) whose value equals v.
func (c *comparison) letterFor(v any) (string, bool) {
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cmp.Equal(c.values[k], v, cmpOptions) {
			return k, true
		}
	}
	return "?", false
}

// frameDiff is what differs at one instant.
type frameDiff struct {
	at        time.Duration
	want, got []string // symbols
	missing   []Event
	extra     []recorded
}

// run compares frame by frame and returns a failure message, or "".
func (c *comparison) run(frame time.Duration) string {
	wantAt := map[time.Duration][]Event{}
	gotAt := map[time.Duration][]recorded{}
	var times []time.Duration
	for _, e := range c.want.Events {
		if _, seen := wantAt[e.At]; !seen {
			times = append(times, e.At)
		}
		wantAt[e.At] = append(wantAt[e.At], e)
	}
	for _, g := range c.got {
		if _, seen := wantAt[g.at]; !seen {
			if _, seen := gotAt[g.at]; !seen {
				times = append(times, g.at)
			}
		}
		gotAt[g.at] = append(gotAt[g.at], g)
	}
	slices.Sort(times)

	gotTL := Timeline{Frame: frame}
	var diffs []frameDiff
	var unknown []string
	for _, at := range times {
		ws, gs := wantAt[at], gotAt[at]
		syms := make([]string, len(gs))
		matchedW := make([]bool, len(ws))
		matchedG := make([]bool, len(gs))
		if c.ordered {
			for i := range min(len(ws), len(gs)) {
				if c.equal(ws[i], gs[i]) {
					matchedW[i], matchedG[i] = true, true
					syms[i] = ws[i].Symbol()
				}
			}
		} else {
			for i, g := range gs {
				for j, w := range ws {
					if !matchedW[j] && c.equal(w, g) {
						matchedW[j], matchedG[i] = true, true
						syms[i] = w.Symbol()
						break
					}
				}
			}
		}
		d := frameDiff{at: at}
		for i, g := range gs {
			if !matchedG[i] {
				switch g.kind {
				case Next:
					l, ok := c.letterFor(g.v)
					syms[i] = l
					if !ok {
						unknown = append(unknown, fmt.Sprintf("at %v: %v", at, g.v))
					}
				case Error:
					syms[i] = "#"
				case Complete:
					syms[i] = "|"
				}
				d.extra = append(d.extra, g)
			}
			gotTL.Events = append(gotTL.Events, Event{At: at, Kind: g.kind, Value: syms[i]})
		}
		for j, w := range ws {
			d.want = append(d.want, w.Symbol())
			if !matchedW[j] {
				d.missing = append(d.missing, w)
			}
		}
		d.got = syms
		if len(d.missing) > 0 || len(d.extra) > 0 {
			diffs = append(diffs, d)
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	rule := "values in one frame compared as a multiset"
	if c.ordered {
		rule = "values in one frame compared in order"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "marbletest: %s differs (frame %v; %s)\n", c.what, frame, rule)
	fmt.Fprintf(&b, "want: %s\ngot:  %s\n", c.want.String(), gotTL.String())
	for _, d := range diffs {
		fmt.Fprintf(&b, "at %v: want %s, got %s\n", d.at, symbols(d.want), symbols(d.got))
		// Pair what is missing with what came instead, for a value diff.
		for i := 0; i < len(d.missing) && i < len(d.extra); i++ {
			w, g := d.missing[i], d.extra[i]
			switch {
			case w.Kind == Next && g.kind == Next:
				fmt.Fprintf(&b, "  %s (-want +got):\n%s", w.Value, indent(cmp.Diff(c.values[w.Value], g.v, cmpOptions), "    "))
			case w.Kind == Error && g.kind == Error:
				fmt.Fprintf(&b, "  error: want %v, got %v\n", c.wantErr, g.err)
			}
		}
		for i := len(d.missing); i < len(d.extra); i++ {
			if g := d.extra[i]; g.kind == Error {
				fmt.Fprintf(&b, "  unexpected error: %v\n", g.err)
			}
		}
	}
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "values not in the values map (shown as ?):\n  %s\n", strings.Join(unknown, "\n  "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func symbols(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, " ")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}
