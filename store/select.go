package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/reactivex/rxgo/v2"
)

// Select returns an Observable of f applied to the state: f of the
// current state when it is subscribed, then f of each new state whose
// value differs (!=) from the one before. It is RxJS's
// state$.pipe(map(f), distinctUntilChanged()), with one difference in
// cost: for a state stream the store made, the store computes f as it
// commits each state, on the dispatching goroutine, so a state that does
// not change f's value wakes no goroutine. Each subscription is hot from
// the state of the moment it subscribes, as StateStream.Observe's later
// subscriptions are.
//
// f must be quick and pure: it runs under the store's lock, for every
// new state, and must not call the store. A panic in f, or values that
// == cannot compare (an interface T holding a slice), end the
// subscription with an error item. For a StateStream the store did not
// make (a test's), Select observes it and maps each state itself.
func Select[S any, T comparable](ss StateStream[S], f func(S) T) rxgo.Observable {
	if f == nil {
		return rxgo.Thrown(fmt.Errorf("store: Select with a nil function"))
	}
	if st, ok := ss.(*stateStream[S]); ok {
		return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
			selectFrom(ctx, st.store, f, next)
		}}, rxgo.WithContext(st.ctx), rxgo.WithBufferedChannel(epicBuffer))
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		selectOver(ctx, ss, f, next)
	}})
}

// selectionOf is one subscription of Select, offered every new state:
// offer computes its value and reports whether it has something to push
// (a changed value, or an error); settle then pushes it, or drops it
// when the state did not change after all.
type selectionOf[S any] interface {
	offer(*S) bool
	settle(push bool)
}

type selection[S any, T comparable] struct {
	f      func(S) T
	last   T
	in     *inlet
	broken bool // f panicked: the subscription ended with an error

	pending bool  // offer's value (next) or error (err) waits for settle
	next    T     // offer's changed value
	err     error // offer's error
}

// offer computes f(*state) and reports whether it changed (or failed);
// the store's lock is held. The state comes by pointer: a commit offers
// it to every selection, and a large state is copied once, for f.
func (sel *selection[S, T]) offer(state *S) bool {
	if sel.broken {
		return false
	}
	v, changed, err := sel.step(state)
	if err == nil && !changed {
		return false
	}
	sel.pending, sel.next, sel.err = true, v, err
	return true
}

// settle pushes what offer found, when push (the state changed), and
// forgets it; the store's lock is held.
func (sel *selection[S, T]) settle(push bool) {
	if !sel.pending {
		return
	}
	v, err := sel.next, sel.err
	sel.pending, sel.next, sel.err = false, *new(T), nil
	switch {
	case !push:
	case err != nil:
		sel.broken = true
		sel.in.push(rxgo.Error(err))
	default:
		sel.last = v
		sel.in.push(rxgo.Of(v))
	}
}

// step is apply and differ in one call, under one recover: offer runs at
// every commit.
func (sel *selection[S, T]) step(state *S) (v T, changed bool, err error) {
	applied := false
	defer func() {
		if r := recover(); r != nil {
			if !applied {
				err = fmt.Errorf("store: Select's function panicked: %v", r)
			} else {
				err = fmt.Errorf("store: Select cannot compare its values: %v", r)
			}
		}
	}()
	v = sel.f(*state)
	applied = true
	return v, v != sel.last, nil
}

func (sel *selection[S, T]) apply(state *S) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: Select's function panicked: %v", r)
		}
	}()
	return sel.f(*state), nil
}

// differ reports a != b, or an error when == cannot compare them (an
// interface T holding a slice, say), which panics.
func differ[T comparable](a, b T) (d bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: Select cannot compare its values: %v", r)
		}
	}()
	return a != b, nil
}

// selectFrom is one subscription of Select on the store's own stream.
func selectFrom[S any, T comparable](ctx context.Context, s *Store[S], f func(S) T, next chan<- rxgo.Item) {
	sel := &selection[S, T]{f: f, in: newInlet()}
	s.mu.Lock()
	if s.stopped.Load() {
		s.mu.Unlock()
		return
	}
	v, err := sel.apply(s.state.latestRef())
	if err != nil {
		s.mu.Unlock()
		next <- rxgo.Error(err)
		return
	}
	sel.last = v
	sel.in.push(rxgo.Of(v))
	s.selects = append(slices.Clone(s.selects), sel)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.selects = slices.DeleteFunc(slices.Clone(s.selects), func(x selectionOf[S]) bool { return x == selectionOf[S](sel) })
		s.mu.Unlock()
	}()
	sel.in.feed(ctx, s.done, next)
}

// selectOver is Select on a StateStream the store did not make.
func selectOver[S any, T comparable](ctx context.Context, ss StateStream[S], f func(S) T, next chan<- rxgo.Item) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first, last := true, *new(T)
	for it := range ss.Observe().Observe(rxgo.WithContext(ctx)) {
		if it.E != nil {
			next <- it
			return
		}
		state, ok := it.V.(S)
		if !ok {
			continue
		}
		sel := selection[S, T]{f: f}
		v, err := sel.apply(&state)
		if err != nil {
			next <- rxgo.Error(err)
			return
		}
		if !first {
			d, err := differ(v, last)
			if err != nil {
				next <- rxgo.Error(err)
				return
			}
			if !d {
				continue
			}
		}
		first, last = false, v
		select {
		case next <- rxgo.Of(v):
		case <-ctx.Done():
			return
		}
	}
}
