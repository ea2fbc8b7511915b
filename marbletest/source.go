package marbletest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/reactivex/rxgo/v2"
)

// ErrSource is what a source emits for # unless WithError says otherwise.
var ErrSource = errors.New("marbletest: error from the source")

// SourceOption configures a hot or cold source.
type SourceOption func(*sourceConfig)

type sourceConfig struct{ err error }

// WithError sets the error a source emits for #.
func WithError(err error) SourceOption {
	return func(c *sourceConfig) {
		if err != nil {
			c.err = err
		}
	}
}

func newSourceConfig(opts []SourceOption) sourceConfig {
	c := sourceConfig{err: ErrSource}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// item turns a timeline event into an rxgo item.
func (c sourceConfig) item(e Event, values Values) rxgo.Item {
	if e.Kind == Error {
		return rxgo.Error(c.err)
	}
	return rxgo.Of(values[e.Value])
}

// checkValues fails the test for a letter that is not in the values map.
func (m *M) checkValues(marble string, tl Timeline, values Values) bool {
	m.t.Helper()
	ok := true
	for _, e := range tl.Events {
		if e.Kind != Next {
			continue
		}
		if _, found := values[e.Value]; !found {
			m.t.Errorf("marbletest: value %q of %q is not in the values map", e.Value, marble)
			ok = false
		}
	}
	return ok
}

// subLog records the subscription windows of a source.
type subLog struct {
	mu      sync.Mutex
	windows []window
}

type window struct {
	from, to time.Duration
	ended    bool
}

func (l *subLog) open(at time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = append(l.windows, window{from: at})
	return len(l.windows) - 1
}

// close ends window i now, unless the end of ExpectEpic cut it:
// then, as in RxJS, the subscription lasts (no '!').
func (l *subLog) close(m *M, i int) {
	if m.ending.Load() {
		return
	}
	at := m.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows[i].to, l.windows[i].ended = at, true
}

// marbles renders each window as "^" where it began and "!" where it ended.
func (l *subLog) marbles(frame time.Duration) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.windows))
	for i, w := range l.windows {
		out[i] = Timeline{Frame: frame, HasSub: true, Subscribed: w.from, HasUnsub: w.ended, Unsubscribed: w.to - w.from}.String()
	}
	return out
}

// parseSubscription reads a subscription marble: '^', '!', '-', spaces,
// groups and time progressions, nothing else. The window starts at the
// '^' and ends at the '!' (times from the start of the marble); subscribed
// is false without a '^', and the window then starts at 0: what RxJS's
// expectObservable makes of "---!", while its expectSubscriptions drops
// such a marble.
func parseSubscription(marble string, frame time.Duration) (w window, subscribed bool, err error) {
	tl, err := Parse(marble, frame)
	if err != nil {
		return window{}, false, err
	}
	if len(tl.Events) > 0 {
		return window{}, false, &SyntaxError{Marble: marble, Pos: firstEventAt(marble), Msg: "a subscription marble has only '^', '!', '-', groups and time progressions"}
	}
	if tl.HasUnsub && tl.Unsubscribed < 0 {
		return window{}, false, &SyntaxError{Marble: marble, Pos: strings.IndexByte(marble, '!'), Msg: "'!' before '^'"}
	}
	w = window{from: tl.Subscribed, to: tl.Subscribed + tl.Unsubscribed, ended: tl.HasUnsub}
	return w, tl.HasSub, nil
}

// firstEventAt is the byte offset of the first value, '|' or '#' of a
// marble that parsed, skipping time progressions.
func firstEventAt(marble string) int {
	for i := 0; i < len(marble); i++ {
		if _, n, _ := progressionAt(marble, i); n > 0 {
			i += n - 1
			continue
		}
		if c := marble[i]; c == '|' || c == '#' || isValue(c) {
			return i
		}
	}
	return 0
}

// expect compares the windows with subscription marbles, as RxJS's
// expectSubscriptions: a marble without '^' stands for no subscription.
func (l *subLog) expect(m *M, name string, want []string) {
	m.t.Helper()
	var spans []window
	for _, s := range want {
		w, subscribed, err := parseSubscription(s, m.frame)
		if err != nil {
			m.t.Errorf("%v", err)
			return
		}
		if subscribed {
			spans = append(spans, w)
		}
	}
	got := l.marbles(m.frame)
	l.mu.Lock()
	same := len(l.windows) == len(spans)
	for i := 0; same && i < len(spans); i++ {
		w, g := spans[i], l.windows[i]
		same = w.from == g.from && w.ended == g.ended && (!w.ended || w.to == g.to)
	}
	l.mu.Unlock()
	if !same {
		m.t.Errorf("marbletest: subscriptions of %s differ\nwant: %s\ngot:  %s",
			name, strings.Join(want, "\n      "), strings.Join(got, "\n      "))
	}
}

// Hot is a hot source of actions: it runs on the test's clock whether or
// not anyone subscribes, and a subscriber sees what comes after it
// subscribes (a subscriber after the end sees the end at once). Time zero
// is the marble's ^ (or its start); events before ^ are never seen.
type Hot struct {
	m      *M
	marble string
	tl     Timeline
	values Values
	cfg    sourceConfig
	log    subLog
	bad    bool // the marble did not parse: the source emits nothing

	mu   sync.Mutex
	subs []*hotSub
	end  *rxgo.Item // set once the source completed or failed
}

type hotSub struct {
	queue []rxgo.Item
	done  bool // the last item is queued
	wake  chan struct{}
}

// Hot builds a hot source from a marble and its values. A malformed marble,
// a '!' (it belongs to subscription marbles), or a letter that is not in
// the values map fails the test; the source then emits nothing.
func (m *M) Hot(marble string, values Values, opts ...SourceOption) *Hot {
	m.t.Helper()
	h := &Hot{m: m, marble: marble, values: values, cfg: newSourceConfig(opts)}
	tl, ok := m.Parse(marble)
	if ok && tl.HasUnsub {
		m.t.Errorf("%v", &SyntaxError{Marble: marble, Pos: strings.IndexByte(marble, '!'), Msg: "'!' belongs in a subscription marble, not in a hot source"})
		ok = false
	}
	if ok && m.checkValues(marble, tl, values) {
		h.tl = tl
	} else {
		h.bad = true
	}
	return h
}

// Observable returns the source as an rxgo Observable: each Observe is a
// new subscription, recorded for ExpectSubscriptions, that ends when its
// context does, when the source ends, or when the test does.
func (h *Hot) Observable() rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		s := &hotSub{wake: make(chan struct{}, 1)}
		h.mu.Lock()
		w := h.log.open(h.m.Now())
		if h.end != nil {
			s.queue, s.done = []rxgo.Item{*h.end}, true
		} else {
			h.subs = append(h.subs, s)
		}
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			for i, x := range h.subs {
				if x == s {
					h.subs = append(h.subs[:i:i], h.subs[i+1:]...)
					break
				}
			}
			h.mu.Unlock()
			h.log.close(h.m, w)
		}()
		for {
			h.mu.Lock()
			q, done := s.queue, s.done
			s.queue = nil
			h.mu.Unlock()
			for _, it := range q {
				if it.V == nil && it.E == nil {
					return // completion
				}
				select {
				case next <- it:
				case <-ctx.Done():
					return
				}
				if it.E != nil {
					return
				}
			}
			if done && len(q) > 0 {
				return
			}
			select {
			case <-s.wake:
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
	if h.end != nil {
		return
	}
	var it rxgo.Item // the zero item marks completion
	if e.Kind != Complete {
		it = h.cfg.item(e, h.values)
	}
	if e.Kind != Next {
		h.end = &it
	}
	for _, s := range h.subs {
		s.queue = append(s.queue, it)
		s.done = e.Kind != Next
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (h *Hot) steps() []step {
	var out []step
	for _, e := range h.tl.Events {
		if e.At >= 0 {
			out = append(out, step{at: e.At, do: func() { h.emit(e) }})
		}
	}
	return out
}

// Subscriptions returns the subscription windows so far, one marble each.
func (h *Hot) Subscriptions() []string { return h.log.marbles(h.m.frame) }

// ExpectSubscriptions checks the source's subscription windows, one marble
// per subscription in the order they began: "^" where it began, "!" where
// it ended (omitted while it lasts), as RxJS's expectSubscriptions. A
// subscription ends in the frame the source completes or fails, or when
// the subscriber unsubscribes; one that ExpectEpic's end cut lasts, as
// in RxJS ("^", no '!'). As in RxJS, a marble without '^' ("---",
// "", even "---!") stands for no subscription: ExpectSubscriptions("-")
// and ExpectSubscriptions() both say the source was never subscribed.
func (h *Hot) ExpectSubscriptions(want ...string) {
	h.m.t.Helper()
	h.log.expect(h.m, fmt.Sprintf("hot %q", h.marble), want)
}

// Cold is a cold source of actions: every subscription replays the marble
// from its own start, on the test's clock.
type Cold struct {
	m      *M
	marble string
	tl     Timeline
	values Values
	cfg    sourceConfig
	log    subLog
}

// Cold builds a cold source from a marble and its values. A malformed
// marble, a '^' or '!', or a letter that is not in the values map fails
// the test; the source then emits nothing.
func (m *M) Cold(marble string, values Values, opts ...SourceOption) *Cold {
	m.t.Helper()
	c := &Cold{m: m, marble: marble, values: values, cfg: newSourceConfig(opts)}
	tl, ok := m.Parse(marble)
	if ok && (tl.HasSub || tl.HasUnsub) {
		pos := strings.IndexAny(marble, "^!")
		m.t.Errorf("%v", &SyntaxError{Marble: marble, Pos: pos, Msg: fmt.Sprintf("%q has no place in a cold source", marble[pos])})
		ok = false
	}
	if ok && m.checkValues(marble, tl, values) {
		c.tl = tl
	}
	return c
}

// Observable returns the source as an rxgo Observable: each Observe plays
// the marble from that moment, and is recorded for ExpectSubscriptions. A
// marble that never completes ends with its subscription or the test.
func (c *Cold) Observable() rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		start := c.m.Now()
		w := c.log.open(start)
		defer c.log.close(c.m, w)
		for _, e := range c.tl.Events {
			if d := start + e.At - c.m.Now(); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				case <-c.m.ctx.Done():
					t.Stop()
					return
				}
			}
			if e.Kind == Complete {
				return
			}
			select {
			case next <- c.cfg.item(e, c.values):
			case <-ctx.Done():
				return
			}
			if e.Kind == Error {
				return
			}
		}
		select { // a marble without | or # never completes
		case <-ctx.Done():
		case <-c.m.ctx.Done():
		}
	}})
}

// Subscriptions returns the subscription windows so far, one marble each.
func (c *Cold) Subscriptions() []string { return c.log.marbles(c.m.frame) }

// ExpectSubscriptions checks the source's subscription windows, as
// Hot.ExpectSubscriptions does.
func (c *Cold) ExpectSubscriptions(want ...string) {
	c.m.t.Helper()
	c.log.expect(c.m, fmt.Sprintf("cold %q", c.marble), want)
}
