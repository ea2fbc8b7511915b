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
	// EpicFailed is dispatched when an epic ends with an error.
	EpicFailed = Define[EpicFailedPayload]("@@store/EPIC_FAILED")
)

// Replaced is dispatched when a store's state is set outright (DevTools
// time travel); reducers do not see it.
var Replaced = Define[Empty]("@@store/REPLACE")
