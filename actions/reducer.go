package actions

// Reducer computes the next state from the previous state and an action.
//
// A reducer is pure: the same prev and action always give the same
// result; it does no I/O, reads no clock (time comes from a.Meta.Time),
// starts no goroutine and never writes through prev. An action it does
// not handle returns prev unchanged, the same value, so that memoized
// reads hit and a store's state stream sees no change.
type Reducer[S any] func(prev S, a Action) S
