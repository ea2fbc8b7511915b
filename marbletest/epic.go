package marbletest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// drainLimit is how long, in virtual time, the code under test has to end
// its output after its context was cancelled before the test says it
// leaks. Virtual time costs nothing.
const drainLimit = time.Hour

// EpicCase describes one epic test.
type EpicCase[S any] struct {
	// Input is the hot marble of actions the epic receives (its action$).
	Input string
	// Values maps the characters of Input and Expected to actions.
	Values Values
	// InputError is what # in Input emits (default ErrSource).
	InputError error
	// State is what the epic's StateStream returns.
	State S
	// Expected is the marble of the actions the epic must emit, in frames
	// from the start of the test whatever the Subscription, as RxJS's
	// toBe: with Subscription "---^", an action at the subscription is
	// written "---a".
	Expected string
	// Error is the error # in Expected must be (errors.Is, or the same
	// message); nil accepts any error.
	Error error
	// Ordered compares the values of one frame in order instead of as a
	// multiset. Use it when one cause emits them one after the other; see
	// the package documentation.
	Ordered bool
	// Subscription is when the test subscribes to the epic's output and
	// unsubscribes from it, as the second argument of RxJS's
	// expectObservable: "--^---!". Without '^' the subscription starts at
	// time zero ("---!" ends it at 3 frames); without '!' it lasts to the
	// end of the test, which is the default. In the frame of '^' or '!'
	// the test subscribes or unsubscribes before the inputs of that frame
	// are delivered, as RxJS does, and nothing the output emits in the
	// frame of '!' is seen.
	Subscription string
	// For runs the test this long after the last input, expected event or
	// unsubscription (default ten frames), to catch late extra output.
	For time.Duration
}

// ExpectEpic runs epic on the case's input in virtual time and compares
// what it emits with Expected. The action metadata (time, source,
// sequence) is ignored. The epic's context is cancelled at the end, and
// its output must then end.
func ExpectEpic[S any](m *M, epic store.Epic[S], c EpicCase[S]) {
	m.t.Helper()
	in := m.Hot(c.Input, c.Values, WithError(c.InputError))
	want, ok := m.Parse(c.Expected)
	if !ok || in.bad {
		return
	}
	if want.HasSub || want.HasUnsub {
		m.t.Errorf("marbletest: Expected %q has a '^' or '!': put them in Subscription", c.Expected)
		return
	}
	if !m.checkValues(c.Expected, want, c.Values) {
		return
	}
	var subAt, unsubAt time.Duration = 0, -1
	if c.Subscription != "" {
		w, _, err := parseSubscription(c.Subscription, m.frame)
		if err != nil {
			m.t.Errorf("%v", err)
			return
		}
		subAt = w.from
		if w.ended {
			unsubAt = w.to
		}
	}

	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	out, err := callEpic(ctx, epic, in.Observable(), staticState[S]{v: c.State, ctx: ctx})
	if err != nil {
		m.t.Errorf("%v", err)
		return
	}
	rec := newRecorder(m)
	obsCtx, unsubscribe := context.WithCancel(ctx)
	defer unsubscribe()
	// Subscribing and unsubscribing come before the inputs of their frame
	// (play keeps the order of one instant's steps), as in RxJS.
	var steps []step
	if unsubAt >= 0 {
		// The code under test's timers of that frame fire before the step
		// does (the same-frame rule); in RxJS the subscriber is gone by
		// then, so what they emit is not seen.
		rec.cut = unsubAt
	}
	subscribe := func() { rec.observe(obsCtx, out) }
	if subAt == 0 {
		subscribe()
	} else {
		steps = append(steps, step{at: subAt, do: subscribe})
	}
	if unsubAt >= 0 {
		steps = append(steps, step{at: unsubAt, do: func() {
			rec.stopping.Store(true)
			unsubscribe()
		}})
	}
	steps = append(steps, in.steps()...)
	m.play(steps)

	if end, ok := runUntil(max(lastAt(in.tl, want), subAt, unsubAt), m.frame, c.For); ok {
		m.sleepUntil(end)
	} else {
		m.t.Errorf("marbletest: EpicCase.For %v: the test would end past the largest time.Duration", c.For)
	}
	rec.stopping.Store(true)
	m.ending.Store(true)
	cancel()
	ended := rec.wait()
	synctest.Wait() // the sources log their subscriptions' end as the test's
	m.ending.Store(false)
	if !ended {
		m.t.Errorf("marbletest: the epic's output did not end within %v of its context's end: a goroutine leaks", drainLimit)
		return
	}
	cmp := comparison{what: "epic output", want: want, got: rec.events, values: anyValues(c.Values), ordered: c.Ordered, wantErr: c.Error}
	if msg := cmp.run(m.frame); msg != "" {
		m.t.Errorf("%s", msg)
	}
}

func anyValues(v Values) map[string]any {
	out := make(map[string]any, len(v))
	for k, a := range v {
		out[k] = a
	}
	return out
}

// callEpic calls the epic, turning a panic or a nil output into an error.
func callEpic[S any](ctx context.Context, epic store.Epic[S], in rxgo.Observable, st store.StateStream[S]) (out rxgo.Observable, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("marbletest: the epic panicked: %v", r)
		}
	}()
	if epic == nil {
		return nil, fmt.Errorf("marbletest: nil epic")
	}
	out = epic(ctx, in, st)
	if out == nil {
		return nil, fmt.Errorf("marbletest: the epic returned a nil Observable")
	}
	return out, nil
}

// runUntil is when a case's run ends: a frame after last, then For
// (ten frames when For is not positive). ok is false when that is beyond
// the largest time.Duration.
func runUntil(last, frame, For time.Duration) (end time.Duration, ok bool) {
	tail := For
	if tail <= 0 {
		if frame > math.MaxInt64/10 {
			return 0, false
		}
		tail = 10 * frame
	}
	end = last
	for _, d := range [...]time.Duration{frame, tail} {
		if end > math.MaxInt64-d {
			return 0, false
		}
		end += d
	}
	return end, true
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

// staticState is the StateStream of an epic test: always the case's state.
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
		case <-s.ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
		case <-s.ctx.Done():
		}
	}})
}

// recorder collects an observable's items with their virtual times.
type recorder struct {
	m      *M
	mu     sync.Mutex
	events []recorded
	done   chan struct{}
	// stopping is set before the test cancels a context the observed
	// pipeline may hold: an output that closes after it did not complete.
	// (A context's Done closes before its children are cancelled, so the
	// child's Err cannot tell.)
	stopping atomic.Bool
	// cut, when not negative, is the time of the unsubscription: nothing
	// recorded from then on is kept. Set before observe.
	cut time.Duration
}

func newRecorder(m *M) *recorder {
	r := &recorder{m: m, done: make(chan struct{}), cut: -1}
	return r
}

func (r *recorder) add(e recorded) {
	if r.cut >= 0 && e.at >= r.cut {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// observe subscribes to o until ctx ends. A channel that closes before
// ctx ends without an error is a completion.
func (r *recorder) observe(ctx context.Context, o rxgo.Observable) {
	ch := o.Observe(rxgo.WithContext(ctx))
	go func() {
		defer close(r.done)
		failed := false
		for it := range ch {
			if it.E != nil {
				failed = true
				r.add(recorded{at: r.m.Now(), kind: Error, err: it.E})
				continue
			}
			r.add(recorded{at: r.m.Now(), kind: Next, v: it.V})
		}
		if !r.stopping.Load() && ctx.Err() == nil && !failed {
			r.add(recorded{at: r.m.Now(), kind: Complete})
		}
	}()
}

// wait waits for the observed channel to close; false if it did not
// within drainLimit of virtual time (or was never observed).
func (r *recorder) wait() bool {
	t := time.NewTimer(drainLimit)
	defer t.Stop()
	select {
	case <-r.done:
		return true
	case <-t.C:
		return false
	}
}
