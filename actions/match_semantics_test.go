package actions_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
)

// An action creator's match is the inverse of its creation: whatever New
// builds, Match recognises (Redux Toolkit's actionCreator.match compares
// the type only). A nil payload of an interface type must round-trip,
// directly and through JSON.
func TestMatchTakesBackWhatNewMade(t *testing.T) {
	anyC := actions.Define[any]("semantics_test/ANY")
	errC := actions.Define[error]("semantics_test/ERR")
	strC := actions.Define[string]("semantics_test/STR")
	if p, ok := anyC.Match(anyC.New(nil)); !ok || p != nil {
		t.Errorf("Match(New(nil any)) = %v, %v; want nil, true", p, ok)
	}
	if p, ok := errC.Match(errC.New(nil)); !ok || p != nil {
		t.Errorf("Match(New(nil error)) = %v, %v; want nil, true", p, ok)
	}
	raw, err := anyC.New(nil).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var a actions.Action
	if err := a.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := anyC.Match(a); !ok {
		t.Errorf("Match(UnmarshalJSON(%s)): want a match", raw)
	}
	// A payload of a concrete type still has to be that type.
	if _, ok := strC.Match(actions.Action{Type: strC.Type()}); ok {
		t.Error("Match of a string creator took a nil payload")
	}
	if _, ok := strC.Match(actions.Action{Type: strC.Type(), Payload: 1}); ok {
		t.Error("Match of a string creator took an int payload")
	}
}
