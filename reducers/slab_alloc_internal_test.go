package reducers

import "testing"

// A text send's record comes from the slab: on average no allocation
// of its own (one chunk per 16). A media send's record is its own; that
// branch must not make every call allocate (taking the parameter's
// address did: it escaped).
func TestNewSendAllocations(t *testing.T) {
	v := Send{ID: "s1", To: "alice", Text: "hi"}
	if got := testing.AllocsPerRun(1000, func() { sendSink = newSend(v) }); got != 0 {
		t.Errorf("a text send's record: %v allocations per record, want 0 on average", got)
	}
}

// sendSink holds the last record, as a state would: it escapes.
var sendSink *Send
