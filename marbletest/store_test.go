package marbletest_test

import (
	"context"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
)

var (
	ping = actions.Define[int]("marbletest_test/PING")
	pong = actions.Define[int]("marbletest_test/PONG")
)

// pongLater answers each PING with a PONG five frames later.
func pongLater(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		for it := range rx.OfType(in, ping.Type()).Observe(rxgo.WithContext(ctx)) {
			n, _ := ping.Match(it.V.(actions.Action))
			go func() { // each answer on its own timer, as a mergeMap would
				t := time.NewTimer(5 * time.Millisecond)
				defer t.Stop()
				select {
				case <-t.C:
					select {
					case next <- rxgo.Of(pong.New(n)):
					case <-ctx.Done():
					}
				case <-ctx.Done():
				}
			}()
		}
	}})
}

func counter(s int, a actions.Action) int {
	if pong.Is(a) {
		return s + 1
	}
	return s
}

var pingValues = marbletest.Values{"p": ping.New(1), "q": ping.New(2), "P": pong.New(1), "Q": pong.New(2)}

func newCounterStore(t *testing.T) *store.Store[int] {
	st, err := store.New(counter, 0, store.WithEpic("pong", pongLater))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestExpectStoreActionsAndStates(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		steps := marbletest.ExpectStore(m, newCounterStore(t), marbletest.StoreCase{
			Dispatch: "p---q",
			Values:   pingValues,
			Expected: "p---qP---Q",
		})
		marbletest.ExpectStates(m, steps, marbletest.StatesCase[int]{
			Expected: "0---01---2",
			States:   map[string]int{"0": 0, "1": 1, "2": 2},
		})
		if assert.Len(t, steps, 4) {
			assert.Equal(t, marbletest.Step[int]{At: 9 * time.Millisecond, Action: steps[3].Action, State: 2}, steps[3])
			assert.True(t, pong.Is(steps[3].Action))
		}
	})
}

func TestExpectStoreSameFrame(t *testing.T) {
	// Two PINGs in one frame: the PONGs' timers are due together and may
	// wake in either order; the frame compares as a multiset (-count=200
	// runs it often enough to see both orders).
	for _, want := range []string{"(pq)-(PQ)", "(qp)-(QP)"} {
		marbletest.Run(t, func(m *marbletest.M) {
			steps := marbletest.ExpectStore(m, newCounterStore(t), marbletest.StoreCase{Dispatch: "(pq)", Values: pingValues, Expected: want})
			marbletest.ExpectStates(m, steps, marbletest.StatesCase[int]{Expected: "(00)-(21)", States: map[string]int{"0": 0, "1": 1, "2": 2}})
		})
	}
	// What is dispatched in one frame is reduced in marble order.
	marbletest.Run(t, func(m *marbletest.M) {
		steps := marbletest.ExpectStore(m, newCounterStore(t), marbletest.StoreCase{Dispatch: "(pq)", Values: pingValues, Expected: "(pq)-(PQ)"})
		if assert.Len(t, steps, 4) {
			assert.Equal(t, []actions.Action{pingValues["p"], pingValues["q"]}, []actions.Action{
				{Type: steps[0].Action.Type, Payload: steps[0].Action.Payload},
				{Type: steps[1].Action.Type, Payload: steps[1].Action.Payload},
			})
		}
	})
}

func TestExpectStoreFailureShowsTimelinesAndStates(t *testing.T) {
	msgs := failures(t, time.Millisecond, func(m *marbletest.M) {
		steps := marbletest.ExpectStore(m, newCounterStore(t), marbletest.StoreCase{Dispatch: "p", Values: pingValues, Expected: "p----Q"})
		marbletest.ExpectStates(m, steps, marbletest.StatesCase[int]{Expected: "0----2", States: map[string]int{"0": 0, "2": 2}})
	})
	if assert.Len(t, msgs, 2) {
		assert.Contains(t, msgs[0], "marbletest: store actions differs")
		assert.Contains(t, msgs[0], "want: p----Q\ngot:  p----P\n")
		assert.Contains(t, msgs[0], "at 5ms: want Q, got P\n  Q (-want +got):\n")
		assert.Contains(t, msgs[0], "Payload: int(2)")
		assert.Contains(t, msgs[0], "Payload: int(1)")
		assert.Contains(t, msgs[1], "marbletest: store states differs")
		assert.Contains(t, msgs[1], "want: 0----2\ngot:  0----?\nat 5ms: want 2, got ?\n")
	}
}

func TestExpectStoreRejectsAStartedStore(t *testing.T) {
	msgs := failures(t, time.Millisecond, func(m *marbletest.M) {
		st := newCounterStore(t)
		if err := st.Start(m.Context()); err != nil {
			t.Fatal(err)
		}
		defer st.Stop()
		assert.Nil(t, marbletest.ExpectStore(m, st, marbletest.StoreCase{Dispatch: "p", Values: pingValues, Expected: "p"}))
	})
	assert.Equal(t, []string{"marbletest: start the store: store: already started"}, msgs)
}
