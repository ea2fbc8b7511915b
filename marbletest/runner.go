package marbletest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// TB is the part of testing.TB the assertions use, so that their failure
// messages can themselves be tested.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Values maps marble characters to actions.
type Values map[string]actions.Action

// M drives marble tests inside a testing/synctest bubble: every timer in
// the code under test (rxgo's Interval, Timer, Debounce; time.After;
// time.Now) runs in virtual time.
type M struct {
	t     TB
	frame time.Duration
	start time.Time
	ctx   context.Context
}

// Run runs f in a synctest bubble with frames of 1 ms. Use RunFrame for
// another frame duration (heartbeat tests read best with 1 s).
func Run(t *testing.T, f func(m *M)) { RunFrame(t, time.Millisecond, f) }

// RunFrame runs f in a synctest bubble with frames of the given duration.
func RunFrame(t *testing.T, frame time.Duration, f func(m *M)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		f(&M{t: t, frame: frame, start: time.Now(), ctx: ctx})
	})
}

// SetTB sends assertion failures to tb instead of the test: it is how the
// failure messages of this package are tested.
func (m *M) SetTB(tb TB) { m.t = tb }

// Frame returns the duration of one marble character.
func (m *M) Frame() time.Duration { return m.frame }

// Now returns the virtual time since the test began.
func (m *M) Now() time.Duration { return time.Since(m.start) }

func (m *M) parse(marble string) Timeline {
	tl, err := Parse(marble, m.frame)
	if err != nil {
		m.t.Errorf("%v in %q", err, marble)
	}
	return tl
}

// Hot is a hot source of actions: it runs on the test's clock whether or
// not anyone subscribes, and subscribers see what comes after they
// subscribe. Time zero is the marble's ^ (or its start).
type Hot struct {
	m      *M
	tl     Timeline
	values Values

	mu      sync.Mutex
	subs    []*hotSub
	windows []window
}

type hotSub struct {
	ch  chan rxgo.Item
	w   int // index in windows
	end bool
}

type window struct{ from, to time.Duration } // to < 0: still subscribed

// Hot builds a hot source from a marble and its values. Values for letters
// that are not in the map are an error.
func (m *M) Hot(marble string, values Values) *Hot {
	h := &Hot{m: m, tl: m.parse(marble), values: values}
	for _, e := range h.tl.Events {
		if e.Kind == Next {
			if _, ok := values[e.Value]; !ok {
				m.t.Errorf("marbletest: value %q of %q is not in the values map", e.Value, marble)
			}
		}
	}
	return h
}

// Observable returns the source as an rxgo Observable: each Observe is a
// new subscription, recorded for ExpectSubscriptions.
func (h *Hot) Observable() rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		s := &hotSub{ch: make(chan rxgo.Item, 1024)}
		h.mu.Lock()
		s.w = len(h.windows)
		h.windows = append(h.windows, window{from: h.m.Now(), to: -1})
		h.subs = append(h.subs, s)
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			h.windows[s.w].to = h.m.Now()
			h.subs = slices.DeleteFunc(h.subs, func(x *hotSub) bool { return x == s })
			h.mu.Unlock()
		}()
		for {
			select {
			case it, ok := <-s.ch:
				if !ok {
					return
				}
				select {
				case next <- it:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			case <-h.m.ctx.Done():
				return
			}
		}
	}})
}

// emit hands an event to every current subscriber.
func (h *Hot) emit(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if s.end {
			continue
		}
		switch e.Kind {
		case Next:
			s.ch <- rxgo.Of(h.values[e.Value])
		case Error:
			s.ch <- rxgo.Error(fmt.Errorf("marbletest: error from the source"))
			s.end = true
			close(s.ch)
		case Complete:
			s.end = true
			close(s.ch)
		}
	}
}

// Windows returns the subscription windows seen so far, as a marble of
// '^' and '!' per subscription (for ExpectSubscriptions).
func (h *Hot) windowsMarbles() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, w := range h.windows {
		out = append(out, windowMarble(w, h.m.frame))
	}
	return out
}

func windowMarble(w window, frame time.Duration) string {
	var b strings.Builder
	b.WriteString(gapMarble(w.from, frame))
	b.WriteByte('^')
	if w.to >= 0 {
		d := w.to - w.from - frame
		if d < 0 {
			d = 0
		}
		b.WriteString(gapMarble(d, frame))
		b.WriteByte('!')
	}
	return b.String()
}

func gapMarble(d, frame time.Duration) string {
	if d%frame == 0 && d/frame <= 10 {
		return strings.Repeat("-", int(d/frame))
	}
	return formatDuration(d) + " "
}

// ExpectSubscriptions checks the source's subscription windows, one marble
// per subscription ("^" where it began, "!" where it ended), as RxJS's
// expectSubscriptions.
func (h *Hot) ExpectSubscriptions(want ...string) {
	h.m.t.Helper()
	got := h.windowsMarbles()
	norm := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			tl, err := parseWindow(s, h.m.frame)
			if err != nil {
				h.m.t.Errorf("%v", err)
			}
			out[i] = tl
		}
		return out
	}
	if !slices.Equal(norm(want), norm(got)) {
		h.m.t.Errorf("subscriptions differ\nwant: %q\ngot:  %q", want, got)
	}
}

// parseWindow canonicalizes a subscription marble.
func parseWindow(s string, frame time.Duration) (string, error) {
	var now, from, to time.Duration = 0, -1, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if d, n, ok := progressionAt(s, i); ok {
			now += d
			i += n - 1
			continue
		}
		switch c {
		case ' ':
		case '-':
			now += frame
		case '^':
			from = now
			now += frame
		case '!':
			to = now
			now += frame
		default:
			return "", fmt.Errorf("%w: %q in subscription marble %q", ErrSyntax, c, s)
		}
	}
	return fmt.Sprintf("%v..%v", from, to), nil
}

// Play runs the hot sources' events on the clock, after waiting for the
// code under test to subscribe. It returns when the last event is out and
// everything in the bubble is idle.
func (m *M) Play(sources ...*Hot) {
	type ev struct {
		h *Hot
		e Event
	}
	var all []ev
	for _, h := range sources {
		for _, e := range h.tl.Events {
			if e.At >= 0 {
				all = append(all, ev{h, e})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].e.At < all[j].e.At })
	synctest.Wait()
	for _, x := range all {
		if d := x.e.At - m.Now(); d > 0 {
			time.Sleep(d)
		}
		x.h.emit(x.e)
		synctest.Wait()
	}
}

// recorder collects an observable's items with their virtual times.
type recorder struct {
	m      *M
	mu     sync.Mutex
	events []recorded
	done   chan struct{}
}

type recorded struct {
	at   time.Duration
	kind Kind
	a    actions.Action
	err  error
}

func (m *M) record(o rxgo.Observable, ctx context.Context) *recorder {
	r := &recorder{m: m, done: make(chan struct{})}
	ch := o.Observe(rxgo.WithContext(ctx))
	go func() {
		defer close(r.done)
		failed := false
		for it := range ch {
			r.mu.Lock()
			if it.E != nil {
				failed = true
				r.events = append(r.events, recorded{at: m.Now(), kind: Error, err: it.E})
			} else {
				a, _ := it.V.(actions.Action)
				r.events = append(r.events, recorded{at: m.Now(), kind: Next, a: a})
			}
			r.mu.Unlock()
		}
		if ctx.Err() == nil && !failed {
			r.mu.Lock()
			r.events = append(r.events, recorded{at: m.Now(), kind: Complete})
			r.mu.Unlock()
		}
	}()
	return r
}

// EpicCase describes one epic test.
type EpicCase[S any] struct {
	// Input is the hot marble of actions the epic receives.
	Input string
	// Values maps the characters of Input and Expected to actions.
	Values Values
	// State is what the epic's StateStream returns.
	State S
	// Expected is the marble of the actions the epic must emit.
	Expected string
	// For runs the test this long after the last input or expected event
	// (default: ten frames), to catch late extra output.
	For time.Duration
}

// ExpectEpic runs epic on the case's input in virtual time and compares
// what it emits with Expected. Values in one frame are compared as a
// multiset (see the package documentation); the action metadata (time,
// source, sequence) is ignored.
func ExpectEpic[S any](m *M, epic store.Epic[S], c EpicCase[S]) {
	m.t.Helper()
	in := m.Hot(c.Input, c.Values)
	want := m.parse(c.Expected)
	ctx, cancel := context.WithCancel(m.ctx)
	out := epic(ctx, in.Observable(), staticState[S]{v: c.State, ctx: ctx})
	rec := m.record(out, ctx)
	m.Play(in)
	end := lastAt(in.tl, want) + m.frame
	if c.For > 0 {
		end += c.For
	} else {
		end += 10 * m.frame
	}
	if d := end - m.Now(); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
	cancel()
	<-rec.done
	m.compare(want, rec.timeline(), c.Values)
}

func lastAt(tls ...Timeline) time.Duration {
	var last time.Duration
	for _, tl := range tls {
		for _, e := range tl.Events {
			last = max(last, e.At)
		}
		if tl.HasUnsub {
			last = max(last, tl.Unsubscribed)
		}
	}
	return last
}

type staticState[S any] struct {
	v   S
	ctx context.Context
}

func (s staticState[S]) Value() S { return s.v }

func (s staticState[S]) Observe() rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		select {
		case next <- rxgo.Of(s.v):
		case <-ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
		case <-s.ctx.Done():
		}
	}})
}

// actual is a recorded timeline: events with their actions.
type actual struct {
	at    time.Duration
	kind  Kind
	a     actions.Action
	extra string // error text
}

func (r *recorder) timeline() []actual {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]actual, len(r.events))
	for i, e := range r.events {
		out[i] = actual{at: e.at, kind: e.kind, a: e.a}
		if e.err != nil {
			out[i].extra = e.err.Error()
		}
	}
	return out
}

var ignoreMeta = cmpopts.IgnoreFields(actions.Action{}, "Meta")

// letterFor finds the marble character whose value equals a.
func letterFor(a actions.Action, values Values) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cmp.Equal(values[k], a, ignoreMeta) {
			return k
		}
	}
	return "?"
}

// compare checks got against want frame by frame, values in one frame as
// a multiset, and reports both timelines on a mismatch.
func (m *M) compare(want Timeline, got []actual, values Values) {
	m.t.Helper()
	gotTL := Timeline{Frame: m.frame}
	var unknown []string
	for _, g := range got {
		e := Event{At: g.at, Kind: g.kind}
		if g.kind == Next {
			e.Value = letterFor(g.a, values)
			if e.Value == "?" {
				unknown = append(unknown, fmt.Sprintf("%v: %v", g.at, g.a))
			}
		}
		gotTL.Events = append(gotTL.Events, e)
	}
	key := func(e Event) string { return fmt.Sprintf("%d%s", e.Kind, e.Value) }
	frames := func(tl Timeline) map[time.Duration][]string {
		out := map[time.Duration][]string{}
		for _, e := range tl.Events {
			if e.At < 0 {
				continue
			}
			out[e.At] = append(out[e.At], key(e))
		}
		for k := range out {
			sort.Strings(out[k])
		}
		return out
	}
	wf, gf := frames(want), frames(gotTL)
	if cmp.Equal(wf, gf, cmpopts.EquateEmpty()) && len(unknown) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "marble mismatch (frame %v)\nwant: %s\ngot:  %s\n", m.frame, want.String(), gotTL.String())
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "actions not in the values map (shown as ?):\n  %s\n", strings.Join(unknown, "\n  "))
	}
	var times []time.Duration
	for at := range wf {
		times = append(times, at)
	}
	for at := range gf {
		if _, ok := wf[at]; !ok {
			times = append(times, at)
		}
	}
	slices.Sort(times)
	for _, at := range times {
		if !slices.Equal(wf[at], gf[at]) {
			fmt.Fprintf(&b, "at %v: want %s, got %s\n", at, symbols(wf[at], values), symbols(gf[at], values))
			if d := valueDiff(wf[at], gf[at], got, at, values); d != "" {
				b.WriteString(d)
			}
		}
	}
	m.t.Errorf("%s", b.String())
}

func symbols(keys []string, _ Values) string {
	if len(keys) == 0 {
		return "nothing"
	}
	var out []string
	for _, k := range keys {
		switch k[0] {
		case '1':
			out = append(out, "|")
		case '2':
			out = append(out, "#")
		default:
			out = append(out, k[1:])
		}
	}
	return strings.Join(out, " ")
}

// valueDiff shows a go-cmp diff between the expected and actual actions in
// one frame, when both have exactly one value.
func valueDiff(want, gotKeys []string, got []actual, at time.Duration, values Values) string {
	if len(want) != 1 || len(gotKeys) != 1 || want[0][0] != '0' {
		return ""
	}
	exp := values[want[0][1:]]
	for _, g := range got {
		if g.at == at && g.kind == Next {
			return "  " + strings.ReplaceAll(cmp.Diff(exp, g.a, ignoreMeta), "\n", "\n  ") + "\n"
		}
	}
	return ""
}

// StoreCase describes a test of a whole store: reducers and epics.
type StoreCase struct {
	// Dispatch is the hot marble of actions dispatched into the store.
	Dispatch string
	// Values maps the characters of Dispatch and Expected to actions.
	Values Values
	// Expected is the marble of every action the store reduced after
	// Start, whether dispatched or emitted by an epic (INIT excluded).
	Expected string
	// For runs the test this long after the last event (default ten frames).
	For time.Duration
}

// ExpectStore starts st, dispatches the case's actions on the clock,
// compares every action the store reduced with Expected, stops the store,
// and returns the changes (actions with the states they produced) for
// further checks. st must be new (not started).
func ExpectStore[S any](m *M, st *store.Store[S], c StoreCase) []store.Change[S] {
	m.t.Helper()
	want := m.parse(c.Expected)
	in := m.Hot(c.Dispatch, c.Values)
	sub := st.Subscribe(1 << 16)
	if err := st.Start(m.ctx); err != nil {
		m.t.Errorf("marbletest: start the store: %v", err)
		return nil
	}
	<-sub.C() // INIT
	// The dispatcher is the hot source's only subscriber.
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	feed := in.Observable().Observe(rxgo.WithContext(ctx))
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for it := range feed {
			if a, ok := it.V.(actions.Action); ok {
				if err := st.Dispatch(a); err != nil {
					m.t.Errorf("marbletest: dispatch %s: %v", a.Type, err)
				}
			}
		}
	}()
	m.Play(in)
	end := lastAt(in.tl, want) + m.frame
	if c.For > 0 {
		end += c.For
	} else {
		end += 10 * m.frame
	}
	if d := end - m.Now(); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
	cancel()
	<-fed
	st.Stop()
	var changes []store.Change[S]
	var got []actual
	for ch := range sub.C() {
		changes = append(changes, ch)
		got = append(got, actual{at: ch.Action.Meta.Time.Sub(m.start), kind: Next, a: ch.Action})
	}
	if sub.Dropped() > 0 {
		m.t.Errorf("marbletest: %d changes dropped", sub.Dropped())
	}
	m.compare(want, got, c.Values)
	return changes
}
