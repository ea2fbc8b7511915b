package actions

// Empty is the payload of actions that carry none.
type Empty = struct{}

// EpicFailedPayload reports an epic that ended with an error. The store
// dispatches it, logs the error and keeps running the other epics.
type EpicFailedPayload struct {
	Epic  string `json:"epic"`
	Error string `json:"error"`
}

// Actions the store itself dispatches.
var (
	// Init is dispatched once by a store when it starts.
	Init = Define[Empty]("@@store/INIT")
	// EpicFailed is dispatched when an epic ends with an error, and when
	// the reducer panicked on an action an epic emitted (the epic goes on).
	EpicFailed = Define[EpicFailedPayload]("@@store/EPIC_FAILED")
)

// ReplacedPayload carries the state a store held before Replace. Its
// JSON form is empty: a state can be large and is sent on its own.
type ReplacedPayload struct {
	Prev any `json:"-"`
}

// Replaced is reduced when a store's state is set outright (DevTools time
// travel, a RESET): the reducer gets the new state as prev and the old one
// in the payload, so that a slice whose state mirrors the world outside
// (puppets that are running, messages that left) can keep what time travel
// cannot undo. A reducer that does not know it returns prev: the new state.
var Replaced = Define[ReplacedPayload]("@@store/REPLACE")

// ReducerReplaced is reduced, by the new reducer, when a store's reducer
// is swapped (Store.ReplaceReducer): Redux's replaceReducer dispatches
// its REPLACE action the same way, so that the new reducer can fill in
// the parts of the state it adds.
var ReducerReplaced = Define[Empty]("@@store/REPLACE_REDUCER")
