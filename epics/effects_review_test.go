package epics

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

var (
	reviewGo     = actions.Define[actions.Empty]("review/GO")
	reviewResult = actions.Define[actions.Empty]("review/RESULT")
	reviewNext   = actions.Define[actions.Empty]("review/NEXT")
)

// onJobDone reports whether the calling goroutine is inside an effect's
// done, that is inside runner.send, holding r.out for reading.
func onJobDone() bool {
	buf := make([]byte, 64<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), ").done(")
}

// An effect's result is dispatched from runner.send with r.out held for
// reading; when that goroutine becomes the store's drainer (nobody else
// drains), take runs nested in it and a handler's Emit reaches
// runner.send again: a recursive RLock, which sync.RWMutex forbids. If
// the store stops in between (runner.close: cancel, then out.Lock), the
// writer waits for the outer reader and the inner RLock waits for the
// writer: the effect goroutine and the AfterFunc goroutine are stuck for
// good (and the effect's done never returns).
//
// The handler on the result stops the store, waits until close is
// waiting for the lock, and emits: the effect's done must return.
func TestReviewEffectNestedSendDuringStop(t *testing.T) {
	for attempt := 0; attempt < 50; attempt++ {
		if reviewNestedSend(t) {
			return
		}
	}
	t.Fatal("setup: the result was never taken on the effect's goroutine")
}

// reviewNestedSend runs the scenario once; false when the result was
// not taken on the effect's goroutine (another goroutine was draining).
func reviewNestedSend(t *testing.T) bool {
	t.Helper()
	var ee *effectEpic[reducers.Pool]
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	release := make(chan struct{})
	returned := make(chan struct{})
	nested := make(chan bool, 1)
	handler := func(a actions.Action, _ reducers.Pool, fx *Effects) {
		switch {
		case reviewGo.Is(a):
			fx.Run(func(_ context.Context, done func(...actions.Action)) {
				<-release
				done(reviewResult.New(actions.Empty{}))
				close(returned)
			})
		case reviewResult.Is(a):
			if !onJobDone() {
				nested <- false
				return
			}
			nested <- true
			stop() // the store stops: runner.close runs on an AfterFunc goroutine
			r := ee.direct
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
				if !r.out.TryRLock() { // a writer waits: close is in out.Lock
					break
				}
				closed := r.closed
				r.out.RUnlock()
				if closed { // close got the lock: nothing nested held it up
					break
				}
			}
			fx.Emit(reviewNext.New(actions.Empty{}))
		}
	}
	epic := func(ctx context.Context, in rxgo.Observable, ss store.StateStream[reducers.Pool]) rxgo.Observable {
		o := Effect(func(p reducers.Pool) reducers.Pool { return p }, handler)(ctx, in, ss)
		ee = o.(*effectEpic[reducers.Pool])
		return o
	}
	s, err := store.New(func(p reducers.Pool, _ actions.Action) reducers.Pool { return p }, reducers.Pool{}, store.WithEpic("effects", epic))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.Dispatch(reviewGo.New(actions.Empty{})); err != nil {
		t.Fatal(err)
	}
	// Let the dispatchers and the store's drainer let go of the queue, so
	// that the effect's goroutine drains its own result.
	for range 100 {
		runtime.Gosched()
	}
	close(release)
	if !<-nested {
		<-returned
		return false
	}
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the effect's done never returned: runner.send's nested RLock is stuck behind runner.close's Lock")
	}
	return true
}
