package reducers

import "github.com/hawechaty/hawechaty/actions"

// Reducer computes the next state from the previous one and an action. It
// is the same shape as store.Reducer.
type Reducer[S any] = actions.Reducer[S]

// Slice is one field of a state S with its own reducer, built by Field.
type Slice[S any] interface {
	// reduce reduces the field of prev and, if it changed, writes it into
	// *next; it reports whether it did.
	reduce(prev S, next *S, a actions.Action) bool
}

type field[S any, F comparable] struct {
	get     func(S) F
	set     func(*S, F)
	reducer Reducer[F]
}

func (f field[S, F]) reduce(prev S, next *S, a actions.Action) bool {
	if f.get == nil || f.set == nil || f.reducer == nil {
		return false // as combineReducers drops a key without a reducer
	}
	old := f.get(prev)
	if a.Type == replaced {
		// The field's reducer gets the field of the state before the
		// jump, not the whole of it.
		if p, ok := actions.Replaced.Match(a); ok {
			if ps, ok := p.Prev.(S); ok {
				a.Payload = actions.ReplacedPayload{Prev: f.get(ps)}
			}
		}
	}
	nv := f.reducer(old, a)
	if same(nv, old) {
		return false
	}
	f.set(next, nv)
	return true
}

var replaced = actions.Replaced.Type()

// same is == that answers false instead of panicking when the values hold
// interface values of a type == cannot compare (a slice in an any): such
// a field counts as changed, never wrongly as unchanged.
func same[F comparable](a, b F) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// Field binds a reducer to one field of S: get reads the field, set writes
// it into a copy of the state. On actions.Replaced the field's reducer is
// given the field of the previous state, so that a slice written for its
// own state (the pool's) works the same mounted in an application's
// state. F is comparable so that Combine can tell an
// unchanged field (same value) from a changed one; a field of an
// interface type holding a value == cannot compare counts as changed.
// A Field with a nil get, set or reducer changes nothing, as
// combineReducers leaves out a key whose reducer is undefined.
func Field[S any, F comparable](get func(S) F, set func(*S, F), r Reducer[F]) Slice[S] {
	return field[S, F]{get: get, set: set, reducer: r}
}

// Combine is combineReducers for Go: each slice reduces its own field of
// the previous state, every slice sees every action, and when no field
// changed the previous state is returned as it was, so that memoized
// selectors see the same inputs and hit their cache. Nil slices are left
// out, as combineReducers leaves out undefined reducers; with none, the
// state never changes.
func Combine[S any](slices ...Slice[S]) Reducer[S] {
	return func(prev S, a actions.Action) S {
		next := prev
		changed := false
		for _, s := range slices {
			if s == nil {
				continue
			}
			if s.reduce(prev, &next, a) {
				changed = true
			}
		}
		if !changed {
			return prev
		}
		return next
	}
}

// On builds a reducer for one action type from a typed handler: other
// actions return prev unchanged, and so does every action when f is nil.
func On[S, P any](c actions.Creator[P], f func(prev S, p P, meta actions.Meta) S) Reducer[S] {
	return func(prev S, a actions.Action) S {
		if f == nil {
			return prev
		}
		if p, ok := c.Match(a); ok {
			return f(prev, p, a.Meta)
		}
		return prev
	}
}

// Chain runs reducers one after another on the same action; nil ones are
// skipped.
func Chain[S any](rs ...Reducer[S]) Reducer[S] {
	return func(prev S, a actions.Action) S {
		for _, r := range rs {
			if r == nil {
				continue
			}
			prev = r(prev, a)
		}
		return prev
	}
}
