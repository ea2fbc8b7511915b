package store

import "reflect"

// sameState returns how the store tells that a commit did not change the
// state, so that the state streams skip it (redux-observable's
// StateObservable emits only a value that is not === the last): == when S
// is comparable, and nil, every commit a new state, when it is not. For a
// pointer, a map or a channel that is identity; for a struct or an array
// it is == of the fields, identity for the pointers among them, which is
// what a reducer that returns prev, or copies only what changed, produces.
//
// A comparable S that holds interfaces can still panic on == (an
// interface holding a slice): such a comparison counts as a change.
//
// Comparing through any allocates nothing: the interfaces do not escape.
func sameState[S any]() func(a, b S) bool {
	t := reflect.TypeFor[S]()
	if !t.Comparable() {
		return nil
	}
	if !holdsInterface(t) {
		return func(a, b S) bool { return any(a) == any(b) }
	}
	return func(a, b S) (same bool) {
		defer func() {
			if recover() != nil {
				same = false
			}
		}()
		return any(a) == any(b)
	}
}

// holdsInterface reports whether comparing two values of the comparable
// type t compares interfaces, which may panic.
func holdsInterface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return holdsInterface(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsInterface(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
