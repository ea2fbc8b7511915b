package selectors

import "sync/atomic"

// Selector is a memoized read of a state S: it recomputes its result only
// when one of its inputs changed (compared with ==). It is safe for
// concurrent use; concurrent misses may compute twice, never wrongly.
type Selector[S, R any] struct {
	sel     func(S) R
	recomps *atomic.Uint64
}

// Select returns the result for s.
func (s Selector[S, R]) Select(s0 S) R { return s.sel(s0) }

// Recomputations returns how many times the combiner ran: the cache
// misses. Useful in tests, as in reselect.
func (s Selector[S, R]) Recomputations() uint64 { return s.recomps.Load() }

type memo1[A comparable, R any] struct {
	a A
	r R
}

// Create1 builds a selector from one input selector and a combiner.
func Create1[S any, A comparable, R any](in func(S) A, combine func(A) R) Selector[S, R] {
	var last atomic.Pointer[memo1[A, R]]
	n := new(atomic.Uint64)
	return Selector[S, R]{recomps: n, sel: func(s S) R {
		a := in(s)
		if m := last.Load(); m != nil && m.a == a {
			return m.r
		}
		n.Add(1)
		m := &memo1[A, R]{a: a, r: combine(a)}
		last.Store(m)
		return m.r
	}}
}

type memo2[A, B comparable, R any] struct {
	a A
	b B
	r R
}

// Create2 builds a selector from two input selectors and a combiner.
func Create2[S any, A, B comparable, R any](inA func(S) A, inB func(S) B, combine func(A, B) R) Selector[S, R] {
	var last atomic.Pointer[memo2[A, B, R]]
	n := new(atomic.Uint64)
	return Selector[S, R]{recomps: n, sel: func(s S) R {
		a, b := inA(s), inB(s)
		if m := last.Load(); m != nil && m.a == a && m.b == b {
			return m.r
		}
		n.Add(1)
		m := &memo2[A, B, R]{a: a, b: b, r: combine(a, b)}
		last.Store(m)
		return m.r
	}}
}

type memo3[A, B, C comparable, R any] struct {
	a A
	b B
	c C
	r R
}

// Create3 builds a selector from three input selectors and a combiner.
func Create3[S any, A, B, C comparable, R any](inA func(S) A, inB func(S) B, inC func(S) C, combine func(A, B, C) R) Selector[S, R] {
	var last atomic.Pointer[memo3[A, B, C, R]]
	n := new(atomic.Uint64)
	return Selector[S, R]{recomps: n, sel: func(s S) R {
		a, b, c := inA(s), inB(s), inC(s)
		if m := last.Load(); m != nil && m.a == a && m.b == b && m.c == c {
			return m.r
		}
		n.Add(1)
		m := &memo3[A, B, C, R]{a: a, b: b, c: c, r: combine(a, b, c)}
		last.Store(m)
		return m.r
	}}
}
