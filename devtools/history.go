package devtools

import "sync"

// history mirrors the list of states a monitor holds for the app, so that
// a jump goes to a state this process produced (secrets intact), never to
// the state the monitor sends back (redacted, and untrusted input).
//
// Entry 0 is the committed state (what INIT carried, or where excess
// actions were folded in); then one entry per ACTION the monitor got,
// keyed by action ID. It trims to maxAge exactly as the monitor does
// (commitExcessActions in @redux-devtools/app-core): when there are more
// than maxAge entries, the oldest actions fold into entry 0.
type history[S any] struct {
	mu     sync.Mutex
	maxAge int
	ids    []int
	states []S
}

func newHistory[S any](maxAge int, base S) *history[S] {
	h := &history[S]{maxAge: maxAge}
	h.reset(base)
	return h
}

// reset starts over from base, as the monitor does on INIT.
func (h *history[S]) reset(base S) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids[:0:0], 0)
	h.states = append(h.states[:0:0], base)
}

// push records the state an ACTION with this action ID carried.
func (h *history[S]) push(id int, s S) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, id)
	h.states = append(h.states, s)
	if excess := len(h.ids) - h.maxAge; excess > 0 {
		// Slicing from the front is amortized O(1): append copies only the
		// live part when it reallocates.
		var zero S
		for i := range excess {
			h.states[i] = zero // let the collector have them
		}
		h.ids = h.ids[excess:]
		h.ids[0] = 0
		h.states = h.states[excess:]
	}
}

// byIndex is the state at a position of the monitor's list (JUMP_TO_STATE).
func (h *history[S]) byIndex(i int) (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i < 0 || i >= len(h.states) {
		var zero S
		return zero, false
	}
	return h.states[i], true
}

// byAction is the state after an action ID (JUMP_TO_ACTION); 0 is the
// committed state.
func (h *history[S]) byAction(id int) (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.ids {
		if x == id {
			return h.states[i], true
		}
	}
	var zero S
	return zero, false
}

// len is the number of entries, the committed state included.
func (h *history[S]) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ids)
}
