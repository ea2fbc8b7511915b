package lazyctx

import (
	"context"
	"errors"
	"testing"
)

// The context package's contract: "The first cancellation of c or one
// of its parents sets the cause", so a context that ends because its
// parent ended has the parent's cause, as context.WithCancel's children
// do. A puppet given a call context (calls.enter wraps the caller's ctx
// in a Ctx) must see the cause the caller set: Pool.Add(ctx with
// WithTimeoutCause) → puppet Start.
func TestReviewCauseOfParent(t *testing.T) {
	why := errors.New("review: the caller's reason")
	parent, cancel := context.WithCancelCause(context.Background())
	std, stdCancel := context.WithCancel(parent)
	defer stdCancel()
	c := New(parent, nil)
	defer c.Cancel()
	cancel(why)
	<-c.Done()
	if !errors.Is(context.Cause(std), why) {
		t.Fatalf("setup: a context.WithCancel child has cause %v", context.Cause(std))
	}
	if got := context.Cause(c); !errors.Is(got, why) {
		t.Fatalf("Cause = %v, want the parent's cause %v (as context.WithCancel's child has)", got, why)
	}
}
