package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

var (
	fire1   = actions.Define[actions.Empty]("test/FIRE_1")
	fire2   = actions.Define[actions.Empty]("test/FIRE_2")
	action1 = actions.Define[actions.Empty]("test/ACTION_1")
	action2 = actions.Define[actions.Empty]("test/ACTION_2")
	first   = actions.Define[actions.Empty]("test/FIRST")
	stateOf = actions.Define[int]("test/STATE")
	// pongState carries the state an epic read; pongs a PING's payload
	// and the state seen with it.
	pongState = actions.Define[[]string]("test/PONG_STATE")
	pongs     = actions.Define[[2]int]("test/PONG_SEEN")
)

// types records the type of every action reduced, as Redux's spec
// reducers do with state.concat(action). Its state is a slice: not
// comparable, so the store takes every commit for a new state.
func types(prev []string, a actions.Action) []string {
	return append(slices.Clip(prev), a.Type)
}

// on maps every action of type c to out: ofType(c), mapTo(out).
func on(ctx context.Context, in rxgo.Observable, c string, out actions.Action) rxgo.Observable {
	return in.Filter(func(v any) bool { return v.(actions.Action).Type == c }, rxgo.WithContext(ctx)).
		Map(func(context.Context, any) (any, error) { return out, nil }, rxgo.WithContext(ctx))
}

// TestEpicSeesEveryActionAfterAStarvedStart: an epic whose subscription
// rxgo makes a (virtual) minute after Start, as a starved machine might,
// still sees every action from Init on, in order.
func TestEpicSeesEveryActionAfterAStarvedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		gate := make(chan struct{})
		var seen []uint64
		late := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
				select {
				case <-gate: // the goroutine that subscribes runs only now
				case <-ctx.Done():
					return
				}
				for it := range in.Observe(rxgo.WithContext(ctx)) {
					seen = append(seen, it.V.(actions.Action).Meta.Seq)
				}
			}}, rxgo.WithContext(ctx))
		}
		s, err := store.New(counter, 0, store.WithEpic("late", late))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		for i := range n {
			require.NoError(t, s.Dispatch(add.New(i)))
		}
		time.Sleep(time.Minute)
		close(gate)
		synctest.Wait()
		s.Stop()
		synctest.Wait()
		require.Len(t, seen, n+1, "Init and every add")
		for i, q := range seen {
			require.Equal(t, uint64(i+1), q, "in dispatch order")
		}
	})
}

// TestSupportsSynchronousEmissionByEpicsOnStartUp ports redux-observable's
// "should support synchronous emission by epics on start up": an epic
// that emits at once is reduced after Init, and another epic sees that
// emission. Init is the first action reduced and the first action every
// epic sees, start after start (it was not, about one start in ten).
func TestSupportsSynchronousEmissionByEpicsOnStartUp(t *testing.T) {
	for i := range 200 {
		synctest.Test(t, func(t *testing.T) {
			var firstSeen []string
			var mu sync.Mutex
			epic1 := func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
				return rxgo.Just(action1.New(actions.Empty{}))()
			}
			epic2 := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
				once := false
				return on(ctx, in.Filter(func(v any) bool {
					if !once {
						once = true
						mu.Lock()
						firstSeen = append(firstSeen, v.(actions.Action).Type)
						mu.Unlock()
					}
					return true
				}, rxgo.WithContext(ctx)), action1.Type(), action2.New(actions.Empty{}))
			}
			s, err := store.New(types, nil, store.WithEpic("epic1", epic1), store.WithEpic("epic2", epic2))
			require.NoError(t, err)
			require.NoError(t, s.Start(t.Context()))
			synctest.Wait()
			s.Stop()
			require.Equal(t, []string{actions.Init.Type(), action1.Type(), action2.Type()}, s.State(), "start %d", i)
			require.Equal(t, []string{actions.Init.Type()}, firstSeen, "start %d", i)
		})
	}
}

// TestAllowsAccessingStateValueOnEpicStartup ports redux-observable's
// "should allow accessing state$.value on epic startup": the epic is
// called after Init was reduced.
func TestAllowsAccessingStateValueOnEpicStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		epic := func(_ context.Context, _ rxgo.Observable, st store.StateStream[[]string]) rxgo.Observable {
			return rxgo.Just(pongState.New(st.Value()))()
		}
		var got []string
		s, err := store.New(func(prev []string, a actions.Action) []string {
			if p, ok := pongState.Match(a); ok {
				got = p
			}
			return types(prev, a)
		}, nil, store.WithEpic("epic", epic))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		synctest.Wait()
		require.NoError(t, s.Dispatch(ping.New(1)))
		s.Stop()
		assert.Equal(t, []string{actions.Init.Type()}, got)
		assert.Equal(t, []string{actions.Init.Type(), pongState.Type(), ping.Type()}, s.State())
	})
}

var errPanic = errors.New("some error")

func throwOn(c string) func(int, actions.Action) int {
	return func(prev int, a actions.Action) int {
		if a.Type == c {
			panic(errPanic)
		}
		return counter(prev, a)
	}
}

// TestRecoversFromAnErrorWithinAReducer ports Redux's createStore spec
// case: a reducer that panics fails that dispatch only. The caller gets
// ErrReducerPanicked with the panic, nothing is committed, and the next
// dispatch works.
func TestRecoversFromAnErrorWithinAReducer(t *testing.T) {
	s, err := store.New(throwOn(boom.Type()), 0)
	require.NoError(t, err)
	defer s.Stop()
	sub := s.Subscribe(4)
	require.NoError(t, s.Dispatch(add.New(1)))
	err = s.Dispatch(boom.New(actions.Empty{}))
	require.ErrorIs(t, err, store.ErrReducerPanicked)
	require.ErrorIs(t, err, errPanic, "the panic value is wrapped")
	assert.ErrorContains(t, err, boom.Type())
	assert.Equal(t, 1, s.State())
	assert.Equal(t, uint64(1), s.Seq(), "nothing committed")
	require.NoError(t, s.Dispatch(add.New(2)))
	assert.Equal(t, 3, s.State())
	for _, want := range []uint64{1, 2} {
		c := <-sub.C()
		assert.True(t, add.Is(c.Action), "subscribers never saw the refused action")
		assert.Equal(t, want, c.Action.Meta.Seq, "the refused action took no Seq")
	}

	err = s.Replace(5, "devtools")
	assert.NoError(t, err, "Replace runs the reducer too, and this one is fine")
	s2, err := store.New(throwOn(actions.Replaced.Type()), 0)
	require.NoError(t, err)
	defer s2.Stop()
	require.ErrorIs(t, s2.Replace(5, "devtools"), store.ErrReducerPanicked)
	assert.Equal(t, 0, s2.State())
}

// TestReducerPanicOnAnEpicsActionIsReported ports redux-observable's
// "exceptions thrown in reducers as part of an epic-dispatched action
// should go through HostReportErrors": the reducer panics on the action an
// epic emitted; the dispatch that caused it is not failed, the panic is
// reported as actions.EpicFailed, and the epic goes on. (It used to end
// the program.)
func TestReducerPanicOnAnEpicsActionIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		epic := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			return rxgo.Merge([]rxgo.Observable{
				on(ctx, in, fire1.Type(), action1.New(actions.Empty{})),
				on(ctx, in, fire2.Type(), add.New(2)),
			}, rxgo.WithContext(ctx))
		}
		s, err := store.New(throwOn(action1.Type()), 0, store.WithEpic("epic", epic))
		require.NoError(t, err)
		sub := s.Subscribe(16)
		require.NoError(t, s.Start(t.Context()))
		synctest.Wait()
		require.NoError(t, s.Dispatch(fire1.New(actions.Empty{})))
		synctest.Wait()
		require.NoError(t, s.Dispatch(fire2.New(actions.Empty{})))
		synctest.Wait()
		s.Stop()
		var got []string
		var failed []actions.EpicFailedPayload
		for c := range sub.C() {
			got = append(got, c.Action.Type)
			if p, ok := actions.EpicFailed.Match(c.Action); ok {
				failed = append(failed, p)
			}
		}
		assert.Equal(t, []string{actions.Init.Type(), fire1.Type(), actions.EpicFailed.Type(), fire2.Type(), add.Type()}, got)
		require.Len(t, failed, 1)
		assert.Equal(t, "epic", failed[0].Epic)
		assert.Contains(t, failed[0].Error, "reducer panicked")
		assert.Contains(t, failed[0].Error, "some error")
		assert.Equal(t, 2, s.State())
	})
}

// TestWarnsWhenDispatchingDuringMiddlewareSetup ports Redux's
// applyMiddleware spec case: a dispatch made synchronously while the
// chain is being built, in the factory or in the function it returns,
// fails with ErrBuilding and changes nothing.
func TestWarnsWhenDispatchingDuringMiddlewareSetup(t *testing.T) {
	var inFactory, inWrap error
	early := func(api store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
		inFactory = api.Dispatch(add.New(1))
		return func(next store.DispatchFunc) store.DispatchFunc {
			inWrap = api.Dispatch(add.New(10))
			return next
		}
	}
	s, err := store.New(counter, 0, store.WithMiddleware(early))
	require.NoError(t, err)
	defer s.Stop()
	assert.ErrorIs(t, inFactory, store.ErrBuilding)
	assert.ErrorIs(t, inWrap, store.ErrBuilding)
	assert.Equal(t, 0, s.State())
}

// TestPassesRecursiveDispatchesThroughTheMiddlewareChain ports Redux's
// applyMiddleware spec case to Go's goroutines: a middleware whose
// factory starts a goroutine that dispatches through the API while New is
// still building the chain. The dispatch waits for the chain and goes
// through all of it (it used to race with New under -race, or fail with
// ErrBuilding and be lost).
func TestPassesRecursiveDispatchesThroughTheMiddlewareChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var spied []string
		spy := func(store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
			return func(next store.DispatchFunc) store.DispatchFunc {
				return func(a actions.Action) error {
					spied = append(spied, a.Type)
					return next(a)
				}
			}
		}
		result := make(chan error, 1)
		async := func(api store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
			go func() { result <- api.Dispatch(add.New(1)) }()
			synctest.Wait() // the goroutine dispatched, and waits for the chain
			return func(next store.DispatchFunc) store.DispatchFunc { return next }
		}
		s, err := store.New(counter, 0, store.WithMiddleware(spy, async))
		require.NoError(t, err)
		defer s.Stop()
		require.NoError(t, <-result)
		assert.Equal(t, []string{add.Type()}, spied, "through the whole chain")
		assert.Equal(t, 1, s.State())
	})
}

// TestMiddlewareGoroutineOfAFailedNewIsRefused: when New fails, a
// dispatch from a goroutine a factory started is refused, not stuck.
func TestMiddlewareGoroutineOfAFailedNewIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		result := make(chan error, 1)
		async := func(api store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
			go func() { result <- api.Dispatch(add.New(1)) }()
			synctest.Wait()
			return nil
		}
		_, err := store.New(counter, 0, store.WithMiddleware(async))
		require.ErrorContains(t, err, "nil wrapper")
		assert.ErrorIs(t, <-result, store.ErrStopped)
	})
}

// TestStartStopsTheEpicsWhenMiddlewareRefusesInit: Start returns the
// middleware's error and leaves nothing running (epics used to go on).
func TestStartStopsTheEpicsWhenMiddlewareRefusesInit(t *testing.T) {
	errNo := errors.New("no init here")
	refuse := func(store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				if actions.Init.Is(a) {
					return errNo
				}
				return next(a)
			}
		}
	}
	ticker := func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		return rxgo.Interval(rxgo.WithDuration(time.Millisecond), rxgo.WithContext(ctx)).
			Map(func(context.Context, any) (any, error) { return add.New(1), nil }, rxgo.WithContext(ctx))
	}
	s, err := store.New(counter, 0, store.WithMiddleware(refuse), store.WithEpic("ticker", ticker))
	require.NoError(t, err)
	t.Cleanup(s.Stop)
	err = s.Start(context.Background())
	require.ErrorIs(t, err, errNo)
	goleak.VerifyNone(t)
	assert.ErrorIs(t, s.Dispatch(add.New(1)), store.ErrStopped, "a store whose start failed is stopped")
	assert.Equal(t, 0, s.State())
}

// box is a state compared by identity.
type box struct{ n int }

// observeStates is an epic that records every state its state stream
// emits, subscribing when the epic is built. A nil item (an interface S
// holding nil) is recorded as S's zero value.
func observeStates[S any](mu *sync.Mutex, got *[]S) store.Epic[S] {
	return func(ctx context.Context, _ rxgo.Observable, st store.StateStream[S]) rxgo.Observable {
		return st.Observe().Filter(func(v any) bool {
			mu.Lock()
			s, _ := v.(S)
			*got = append(*got, s)
			mu.Unlock()
			return false
		}, rxgo.WithContext(ctx))
	}
}

// TestStateStreamOnlyUpdatesWhenTheNextValueDiffers ports
// redux-observable's StateObservable cases "should mirror the source
// subject" and "should only update when the next value shallowly
// differs": state$ starts with the current state, then emits a state only
// when it is not == the one before; a Replace always emits. (It emitted
// after every action.)
func TestStateStreamOnlyUpdatesWhenTheNextValueDiffers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		initial := &box{}
		byIdentity := func(prev *box, a actions.Action) *box {
			if n, ok := add.Match(a); ok {
				return &box{n: prev.n + n}
			}
			return prev
		}
		var mu sync.Mutex
		var got []*box
		s, err := store.New(byIdentity, initial, store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
		require.NoError(t, s.Dispatch(add.New(1)))
		second := s.State()
		require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
		require.NoError(t, s.Replace(second, "devtools"))
		require.NoError(t, s.Dispatch(add.New(0))) // a new box equal in value
		synctest.Wait()
		s.Stop()
		require.Len(t, got, 4)
		assert.Same(t, initial, got[0], "the current state at once; Init and NOISE change nothing")
		assert.Same(t, second, got[1])
		assert.Same(t, second, got[2], "Replace emits, even the same state")
		assert.Equal(t, 1, got[3].n)
		assert.NotSame(t, second, got[3], "identity, not deep equality")
	})
}

// TestStateStreamOfNonComparableStateEmitsEveryCommit: a state that ==
// cannot compare is new after every action.
func TestStateStreamOfNonComparableStateEmitsEveryCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		same := func(prev []int, _ actions.Action) []int { return prev }
		var mu sync.Mutex
		var got [][]int
		s, err := store.New(same, []int{7}, store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
		synctest.Wait()
		s.Stop()
		assert.Len(t, got, 3, "the state before Init, after Init, after NOISE")
	})
}

// TestStateStreamGivesALaterSubscriberTheCurrentState ports the state$
// half of redux-observable's "should queue state$ updates": a state stream
// subscribed inside an inner pipeline, after the store moved on, starts
// with the current state at once (it waited for the next change).
func TestStateStreamGivesALaterSubscriberTheCurrentState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reducer := func(prev int, a actions.Action) int {
			if first.Is(a) || stateOf.Is(a) {
				return prev + 1
			}
			return prev
		}
		epic := func(ctx context.Context, in rxgo.Observable, st store.StateStream[int]) rxgo.Observable {
			return in.Filter(func(v any) bool { return first.Is(v.(actions.Action)) }, rxgo.WithContext(ctx)).
				FlatMap(func(rxgo.Item) rxgo.Observable {
					return st.Observe().
						Filter(func(v any) bool { return v.(int) < 3 }, rxgo.WithContext(ctx)).
						Map(func(_ context.Context, v any) (any, error) { return stateOf.New(v.(int)), nil }, rxgo.WithContext(ctx))
				}, rxgo.WithContext(ctx))
		}
		s, err := store.New(reducer, 0, store.WithEpic("epic", epic))
		require.NoError(t, err)
		sub := s.Subscribe(16)
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Dispatch(first.New(actions.Empty{})))
		synctest.Wait()
		s.Stop()
		var got []string
		for c := range sub.C() {
			got = append(got, fmt.Sprint(c.Action, "=", c.State))
		}
		assert.Equal(t, []string{"@@store/INIT=0", "test/FIRST=1", "test/STATE 1=2", "test/STATE 2=3"}, got)
	})
}

// TestUpdatesStateAfterAnActionGoesThroughReducersButBeforeEpics ports
// redux-observable's case of that name as far as it holds on goroutines:
// when an epic sees an action, the state includes it, and the state
// stream has emitted the state it produced (before or after; the two
// streams are not ordered against each other).
func TestUpdatesStateAfterAnActionGoesThroughReducersButBeforeEpics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reducer := func(prev int, a actions.Action) int {
			if ping.Is(a) {
				return prev + 1
			}
			return prev
		}
		epic := func(ctx context.Context, in rxgo.Observable, st store.StateStream[int]) rxgo.Observable {
			return rxgo.Merge([]rxgo.Observable{
				in.Filter(func(v any) bool { return ping.Is(v.(actions.Action)) }, rxgo.WithContext(ctx)).
					Map(func(_ context.Context, v any) (any, error) {
						return pongs.New([2]int{v.(actions.Action).Payload.(int), st.Value()}), nil
					}, rxgo.WithContext(ctx)),
				st.Observe().Map(func(_ context.Context, v any) (any, error) {
					return pongs.New([2]int{-1, v.(int)}), nil
				}, rxgo.WithContext(ctx)),
			}, rxgo.WithContext(ctx))
		}
		s, err := store.New(reducer, 0, store.WithEpic("epic", epic))
		require.NoError(t, err)
		sub := s.Subscribe(16)
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Dispatch(ping.New(1)))
		synctest.Wait()
		require.NoError(t, s.Dispatch(ping.New(2)))
		synctest.Wait()
		s.Stop()
		var fromActions, fromStates [][2]int
		for c := range sub.C() {
			if p, ok := pongs.Match(c.Action); ok {
				if p[0] < 0 {
					fromStates = append(fromStates, p)
				} else {
					fromActions = append(fromActions, p)
				}
			}
		}
		assert.Equal(t, [][2]int{{1, 1}, {2, 2}}, fromActions, "PING n is seen with a state that includes it")
		assert.Equal(t, [][2]int{{-1, 0}, {-1, 1}, {-1, 2}}, fromStates, "state$: 0 at once, then each change")
	})
}
