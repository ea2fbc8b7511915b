package marbletest

import (
	"context"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// StoreCase describes a test of a whole store: reducers and epics.
type StoreCase struct {
	// Dispatch is the marble of actions dispatched into the store, from
	// the moment it started.
	Dispatch string
	// Values maps the characters of Dispatch and Expected to actions.
	Values Values
	// Expected is the marble of every action the store reduced after
	// Start, whether dispatched or emitted by an epic (its INIT excluded).
	Expected string
	// Ordered compares the actions of one frame in order instead of as a
	// multiset (see the package documentation).
	Ordered bool
	// For runs the test this long after the last event (default ten frames).
	For time.Duration
}

// Step is one action a store reduced, the state it produced, and when, in
// virtual time since the test began.
type Step[S any] struct {
	At     time.Duration
	Action actions.Action
	State  S
}

// ExpectStore starts st, dispatches the case's actions on the clock,
// compares every action the store reduced with Expected, stops the store,
// and returns the steps (actions with the states they produced) for
// ExpectStates or other checks. st must be new (not started).
func ExpectStore[S any](m *M, st *store.Store[S], c StoreCase) []Step[S] {
	m.t.Helper()
	in, ok := m.Parse(c.Dispatch)
	if !ok || !m.checkValues(c.Dispatch, in, c.Values) {
		return nil
	}
	want, ok := m.Parse(c.Expected)
	if !ok || !m.checkValues(c.Expected, want, c.Values) {
		return nil
	}
	for _, tl := range []Timeline{in, want} {
		if tl.HasSub || tl.HasUnsub {
			m.t.Errorf("marbletest: a store's marbles have no '^' or '!': %q, %q", c.Dispatch, c.Expected)
			return nil
		}
	}
	if st == nil {
		m.t.Errorf("marbletest: ExpectStore with a nil store")
		return nil
	}
	// Record every change as it happens, stamped with the virtual time.
	sub := st.Subscribe(1 << 16)
	var steps []Step[S]
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for ch := range sub.C() {
			steps = append(steps, Step[S]{At: m.Now(), Action: ch.Action, State: ch.State})
		}
	}()
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	if err := st.Start(ctx); err != nil {
		m.t.Errorf("marbletest: start the store: %v", err)
		st.Stop()
		<-drained
		return nil
	}
	var plan []step
	for _, e := range in.Events {
		if e.Kind != Next {
			continue // | and # mean nothing to a store
		}
		a := c.Values[e.Value]
		plan = append(plan, step{at: e.At, do: func() {
			if err := st.Dispatch(a); err != nil {
				m.t.Errorf("marbletest: dispatch %s at %v: %v", a.Type, e.At, err)
			}
		}})
	}
	m.play(plan)
	if end, ok := runUntil(lastAt(in, want), m.frame, c.For); ok {
		m.sleepUntil(end)
	} else {
		m.t.Errorf("marbletest: StoreCase.For %v: the test would end past the largest time.Duration", c.For)
	}
	st.Stop()
	<-drained
	if n := sub.Dropped(); n > 0 {
		m.t.Errorf("marbletest: the recorder missed %d changes of the store", n)
	}
	steps = dropInit(steps)
	got := make([]recorded, len(steps))
	for i, s := range steps {
		got[i] = recorded{at: s.At, kind: Next, v: s.Action}
	}
	cmp := comparison{what: "store actions", want: want, got: got, values: anyValues(c.Values), ordered: c.Ordered}
	if msg := cmp.run(m.frame); msg != "" {
		m.t.Errorf("%s", msg)
	}
	return steps
}

func dropInit[S any](steps []Step[S]) []Step[S] {
	out := steps[:0:0]
	for _, s := range steps {
		if !actions.Init.Is(s.Action) {
			out = append(out, s)
		}
	}
	return out
}

// StatesCase describes the states a store goes through.
type StatesCase[S any] struct {
	// Expected is the marble of the states after each action, one letter
	// per step.
	Expected string
	// States maps the characters of Expected to states.
	States map[string]S
	// Ordered compares the states of one frame in order instead of as a
	// multiset.
	Ordered bool
}

// ExpectStates compares the states of steps (from ExpectStore) with a
// marble: one letter per reduced action, at the time it was reduced.
// States are compared with go-cmp, unexported fields included.
func ExpectStates[S any](m *M, steps []Step[S], c StatesCase[S]) {
	m.t.Helper()
	want, ok := m.Parse(c.Expected)
	if !ok {
		return
	}
	values := make(map[string]any, len(c.States))
	for k, s := range c.States {
		values[k] = s
	}
	for _, e := range want.Events {
		if _, found := values[e.Value]; e.Kind == Next && !found {
			m.t.Errorf("marbletest: state %q of %q is not in the states map", e.Value, c.Expected)
			return
		}
	}
	got := make([]recorded, len(steps))
	for i, s := range steps {
		got[i] = recorded{at: s.At, kind: Next, v: s.State}
	}
	cmp := comparison{what: "store states", want: want, got: got, values: values, ordered: c.Ordered}
	if msg := cmp.run(m.frame); msg != "" {
		m.t.Errorf("%s", msg)
	}
}
