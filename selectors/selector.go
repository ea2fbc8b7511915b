package selectors

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrNilFunction is what Selector.Err wraps when an input selector or the
// combiner given to Create1, Create2 or Create3 is nil (reselect refuses
// an input selector that is not a function when the selector is created).
var ErrNilFunction = errors.New("selectors: a nil input selector or combiner")

// ErrBadOption is what Selector.Err wraps when an option does not fit
// the selector: a negative MaxSize, a nil option, or a ResultEqual for
// another result type.
var ErrBadOption = errors.New("selectors: bad option")

// ErrZeroSelector is what Err returns for a Selector that was not made by
// Create1, Create2 or Create3 (its zero value).
var ErrZeroSelector = errors.New("selectors: zero Selector (make it with Create1, Create2 or Create3)")

// Selector is a memoized read of a state S, reselect's output selector:
// it runs its input selectors on every Select and recomputes its result
// (runs the combiner) only when their results differ, compared with ==,
// from those of a cached computation. It caches the last computation by
// default (MaxSize for more). It is safe for concurrent use; concurrent
// misses may compute twice, never wrongly.
//
// A selector built with bad arguments (a nil function, a bad option) is
// not a panic: Err says what is wrong, and Select returns the zero R
// without calling anything. The zero Selector behaves the same way.
type Selector[S, R any] struct {
	c *core[S, R]
}

type core[S, R any] struct {
	sel     func(S) R
	recomps atomic.Uint64
	last    atomic.Pointer[R]
	err     error
}

// Select returns the result for s: the cached one when the input
// selectors' results equal those of a cached computation, else the
// combiner's.
func (s Selector[S, R]) Select(s0 S) R {
	if s.c == nil || s.c.err != nil {
		var zero R
		return zero
	}
	return s.c.sel(s0)
}

// Err reports why the selector cannot compute (it then selects the zero
// R): a nil function (ErrNilFunction), a bad option (ErrBadOption), or a
// zero Selector (ErrZeroSelector). It is nil for a working selector.
func (s Selector[S, R]) Err() error {
	if s.c == nil {
		return ErrZeroSelector
	}
	return s.c.err
}

// Recomputations returns how many times the combiner ran: the cache
// misses. Useful in tests, as reselect's recomputations().
func (s Selector[S, R]) Recomputations() uint64 {
	if s.c == nil {
		return 0
	}
	return s.c.recomps.Load()
}

// ResetRecomputations sets the count of Recomputations back to zero, as
// reselect's resetRecomputations(); the cache is kept.
func (s Selector[S, R]) ResetRecomputations() {
	if s.c != nil {
		s.c.recomps.Store(0)
	}
}

// LastResult returns the result of the combiner's last run, as reselect's
// lastResult(); ok is false before its first run. (With ResultEqual, it is
// the cached result that was returned in its place.)
func (s Selector[S, R]) LastResult() (r R, ok bool) {
	if s.c == nil {
		return r, false
	}
	if p := s.c.last.Load(); p != nil {
		return *p, true
	}
	return r, false
}

// Option configures the memoization of a selector, as reselect's
// memoizeOptions for lruMemoize.
type Option interface {
	apply(*config)
}

type config struct {
	maxSize  int
	resultEq any // func(a, b R) bool of the selector's R
	err      error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// MaxSize sets how many computations the selector caches, most recently
// used first (reselect's lruMemoize maxSize): with two, a selector read
// alternately with two states recomputes for neither once both are
// cached. The default is 1; zero keeps the default; a negative size is
// ErrBadOption.
func MaxSize(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.err = errors.Join(c.err, fmt.Errorf("%w: MaxSize(%d) is negative", ErrBadOption, n))
			return
		}
		if n > 0 {
			c.maxSize = n
		}
	})
}

// ResultEqual makes a recomputation whose result is equal (by eq) to a
// cached result return that cached result instead (reselect's
// resultEqualityCheck): a selector that rebuilds an equal slice or
// struct then hands out the value it handed out before, so that what
// depends on it does not see a change. The combiner still runs and
// counts in Recomputations. R must be the selector's result type, else
// the selector's Err is ErrBadOption; a nil eq is ErrBadOption.
func ResultEqual[R any](eq func(a, b R) bool) Option {
	return optionFunc(func(c *config) {
		if eq == nil {
			c.err = errors.Join(c.err, fmt.Errorf("%w: ResultEqual(nil)", ErrBadOption))
			return
		}
		c.resultEq = eq
	})
}

// build makes the core of a selector: inputs reads the key of a state,
// compute runs the combiner on it. nilArgs names the functions that are
// nil.
func build[S any, K comparable, R any](opts []Option, nilArgs []string, inputs func(S) K, compute func(K) R) Selector[S, R] {
	c := &core[S, R]{}
	cfg := config{maxSize: 1}
	for i, o := range opts {
		if o == nil {
			cfg.err = errors.Join(cfg.err, fmt.Errorf("%w: option %d is nil", ErrBadOption, i))
			continue
		}
		o.apply(&cfg)
	}
	var resultEq func(a, b R) bool
	if cfg.resultEq != nil {
		eq, ok := cfg.resultEq.(func(a, b R) bool)
		if !ok {
			var r R
			cfg.err = errors.Join(cfg.err, fmt.Errorf("%w: ResultEqual for %T, the result is %T", ErrBadOption, cfg.resultEq, r))
		}
		resultEq = eq
	}
	if len(nilArgs) > 0 {
		cfg.err = errors.Join(fmt.Errorf("%w: %v", ErrNilFunction, nilArgs), cfg.err)
	}
	if cfg.err != nil {
		c.err = cfg.err
		return Selector[S, R]{c: c}
	}
	type entry struct {
		k K
		r R
	}
	// cache holds up to maxSize entries, most recently used first; it is
	// replaced, never changed, so readers need no lock.
	var cache atomic.Pointer[[]entry]
	c.sel = func(s S) R {
		k := inputs(s)
		var old []entry
		if p := cache.Load(); p != nil {
			old = *p
		}
		for i, e := range old {
			if equal(e.k, k) {
				if i > 0 {
					moved := make([]entry, 0, len(old))
					moved = append(append(append(moved, e), old[:i]...), old[i+1:]...)
					cache.Store(&moved)
				}
				return e.r
			}
		}
		c.recomps.Add(1)
		r := compute(k)
		if resultEq != nil {
			for _, e := range old {
				if resultEq(e.r, r) {
					r = e.r
					break
				}
			}
		}
		c.last.Store(&r)
		next := make([]entry, 0, min(len(old)+1, cfg.maxSize))
		next = append(next, entry{k, r})
		next = append(next, old[:min(len(old), cfg.maxSize-1)]...)
		cache.Store(&next)
		return r
	}
	return Selector[S, R]{c: c}
}

// equal is == that answers false instead of panicking when the inputs
// hold interface values of a type == cannot compare (a slice in an any):
// such inputs recompute every time, never wrongly.
func equal[K comparable](a, b K) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// arg is one function argument of a Create function: its name, and
// whether it is nil.
type arg struct {
	name  string
	isNil bool
}

// nilArgs names the nil ones among the arguments.
func nilArgs(args ...arg) []string {
	var out []string
	for _, a := range args {
		if a.isNil {
			out = append(out, a.name)
		}
	}
	return out
}

// Create1 builds a selector from one input selector and a combiner.
func Create1[S any, A comparable, R any](in func(S) A, combine func(A) R, opts ...Option) Selector[S, R] {
	return build(opts, nilArgs(arg{"in", in == nil}, arg{"combine", combine == nil}), in, combine)
}

type pair[A, B comparable] struct {
	a A
	b B
}

// Create2 builds a selector from two input selectors and a combiner.
func Create2[S any, A, B comparable, R any](inA func(S) A, inB func(S) B, combine func(A, B) R, opts ...Option) Selector[S, R] {
	return build(opts, nilArgs(arg{"inA", inA == nil}, arg{"inB", inB == nil}, arg{"combine", combine == nil}),
		func(s S) pair[A, B] { return pair[A, B]{inA(s), inB(s)} },
		func(k pair[A, B]) R { return combine(k.a, k.b) })
}

type triple[A, B, C comparable] struct {
	a A
	b B
	c C
}

// Create3 builds a selector from three input selectors and a combiner.
func Create3[S any, A, B, C comparable, R any](inA func(S) A, inB func(S) B, inC func(S) C, combine func(A, B, C) R, opts ...Option) Selector[S, R] {
	return build(opts, nilArgs(arg{"inA", inA == nil}, arg{"inB", inB == nil}, arg{"inC", inC == nil}, arg{"combine", combine == nil}),
		func(s S) triple[A, B, C] { return triple[A, B, C]{inA(s), inB(s), inC(s)} },
		func(k triple[A, B, C]) R { return combine(k.a, k.b, k.c) })
}
