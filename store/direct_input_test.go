package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// taker is an epic that takes its actions directly (store.DirectInput)
// and answers each PING n with a PONG n, dispatched from take.
type taker struct {
	rxgo.Observable
	emit    func(rxgo.Item) bool
	mu      sync.Mutex
	seen    []string
	busy    atomic.Int32 // takes under way: never more than 1
	overlap atomic.Bool
	panicOn string
}

func (t *taker) Direct(emit func(rxgo.Item) bool) { t.emit = emit }

func (t *taker) Input() func(actions.Action) {
	return func(a actions.Action) {
		if t.busy.Add(1) > 1 {
			t.overlap.Store(true)
		}
		defer t.busy.Add(-1)
		if a.Type == t.panicOn {
			panic("taker: " + a.Type)
		}
		t.mu.Lock()
		t.seen = append(t.seen, a.Type)
		t.mu.Unlock()
		if n, ok := ping.Match(a); ok {
			t.emit(rxgo.Of(pong.New(n)))
		}
	}
}

func (t *taker) types() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.seen...)
}

func takerEpic(t *taker) store.Epic[int] {
	return func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		t.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
		return t
	}
}

var fan = actions.Define[int]("test/FAN")

func TestDirectInput(t *testing.T) {
	t.Run("every action from Init, in order, taken before Dispatch returns", func(t *testing.T) {
		tk := &taker{}
		s, err := store.New(counter, 0, store.WithEpic("taker", takerEpic(tk)))
		require.NoError(t, err)
		require.NoError(t, s.Dispatch(add.New(1))) // before Start: not an epic's
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		require.NoError(t, s.Dispatch(ping.New(1)))
		// The PONG that take dispatched was taken before Dispatch returned.
		assert.Equal(t, []string{actions.Init.Type(), ping.Type(), pong.Type()}, tk.types())
		assert.Zero(t, s.EpicBacklog())
	})
	t.Run("never two at once, none lost, under concurrent dispatchers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &taker{}
			s, err := store.New(counter, 0, store.WithEpic("taker", takerEpic(tk)))
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			defer s.Stop()
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for i := range 500 {
						assert.NoError(t, s.Dispatch(ping.New(i)))
					}
				})
			}
			wg.Wait()
			// A dispatcher that found another draining left its action to
			// it; the drainer goroutine takes what a batch's worth left.
			synctest.Wait()
			assert.Len(t, tk.types(), 1+2*4*500)
			assert.False(t, tk.overlap.Load(), "take ran on two goroutines at once")
			pings, pongs := 0, 0
			for _, typ := range tk.types() {
				switch typ {
				case ping.Type():
					pings++
				case pong.Type():
					pongs++
				}
			}
			assert.Equal(t, 2000, pings)
			assert.Equal(t, 2000, pongs)
			assert.Zero(t, s.EpicBacklog())
		})
	})
	t.Run("a take that dispatches more than a batch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &taker{}
			s, err := store.New(counter, 0, store.WithEpic("fan", func(ctx context.Context, in rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
				tk.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
				return &fanOut{taker: tk, fan: fan}
			}))
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			require.NoError(t, s.Dispatch(fan.New(500)))
			synctest.Wait()
			assert.Len(t, tk.types(), 1+1+500, "Init, FAN, and the 500 PINGs it dispatched")
			assert.Zero(t, s.EpicBacklog())
			s.Stop()
		})
	})
	t.Run("a panic in take fails the epic, and take is not called again", func(t *testing.T) {
		tk := &taker{panicOn: boom.Type()}
		s, err := store.New(func(prev []string, a actions.Action) []string { return append(prev, a.Type) }, nil,
			store.WithEpic("taker", func(ctx context.Context, in rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
				tk.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
				return tk
			}))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		require.NoError(t, s.Dispatch(boom.New(actions.Empty{})))
		require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
		assert.Equal(t, []string{actions.Init.Type(), boom.Type(), actions.EpicFailed.Type(), noise.Type()}, s.State())
		assert.Equal(t, []string{actions.Init.Type()}, tk.types())
	})
	t.Run("Replace is taken too", func(t *testing.T) {
		tk := &taker{}
		s, err := store.New(counter, 0, store.WithEpic("taker", takerEpic(tk)))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		require.NoError(t, s.Replace(7, "test"))
		assert.Equal(t, []string{actions.Init.Type(), actions.Replaced.Type()}, tk.types())
	})
	t.Run("a nil take fails the epic", func(t *testing.T) {
		s, err := store.New(func(prev []string, a actions.Action) []string { return append(prev, a.Type) }, nil,
			store.WithEpic("nil", func(ctx context.Context, in rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
				return nilInput{rxgo.Empty()}
			}))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		assert.Equal(t, []string{actions.Init.Type(), actions.EpicFailed.Type()}, s.State())
	})
}

type nilInput struct{ rxgo.Observable }

func (nilInput) Input() func(actions.Action) { return nil }

// fanOut answers a FAN n with n PINGs, dispatched from take.
type fanOut struct {
	*taker
	fan actions.Creator[int]
}

func (f *fanOut) Input() func(actions.Action) {
	take := f.taker.Input()
	return func(a actions.Action) {
		take(a)
		if n, ok := f.fan.Match(a); ok {
			for range n {
				f.emit(rxgo.Of(noise.New(actions.Empty{})))
			}
		}
	}
}

func TestSelect(t *testing.T) {
	t.Run("the current value, then each change, computed as the store commits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			var got []int
			var mu sync.Mutex
			epic := func(ctx context.Context, _ rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
				parity := store.Select(ss, func(n int) int { calls.Add(1); return n % 2 })
				parity.DoOnNext(func(v any) { mu.Lock(); got = append(got, v.(int)); mu.Unlock() }, rxgo.WithContext(ctx))
				return idle(ctx)
			}
			s, err := store.New(counter, 0, store.WithEpic("parity", epic))
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			synctest.Wait()
			for _, n := range []int{2, 2, 1, 2, 0} {
				require.NoError(t, s.Dispatch(add.New(n)))
				synctest.Wait()
			}
			s.Stop()
			mu.Lock()
			defer mu.Unlock()
			// 0 → 2 (even) → 4 (even) → 5 (odd) → 7 (odd) → 7 (same state)
			assert.Equal(t, []int{0, 1}, got)
		})
	})
	t.Run("a panic in f ends the subscription with an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			errs := make(chan error, 1)
			epic := func(ctx context.Context, _ rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
				o := store.Select(ss, func(n int) int {
					if n > 0 {
						panic("boom")
					}
					return n
				})
				o.DoOnError(func(err error) { errs <- err }, rxgo.WithContext(ctx))
				return idle(ctx)
			}
			s, err := store.New(counter, 0, store.WithEpic("p", epic))
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			defer s.Stop()
			synctest.Wait()
			require.NoError(t, s.Dispatch(add.New(1)), "a panic in a selection is not the reducer's")
			synctest.Wait()
			select {
			case err := <-errs:
				assert.ErrorContains(t, err, "panicked: boom")
			default:
				t.Fatal("no error item after the panic")
			}
			assert.Equal(t, 1, s.State())
		})
	})
	t.Run("a nil function is an error item", func(t *testing.T) {
		item, ok := <-store.Select[int, int](nil, nil).Observe()
		require.True(t, ok)
		assert.ErrorContains(t, item.E, "nil function")
	})
	t.Run("a state stream the store did not make", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ss := fixedStates{rxgo.Just(1, 3, 4, 4, 6, 7)()}
			var got []any
			for it := range store.Select[int, int](ss, func(n int) int { return n % 2 }).Observe() {
				got = append(got, it.V)
			}
			assert.Equal(t, []any{1, 0, 1}, got)
		})
	})
}

// idle is an epic output that emits nothing until the store stops.
func idle(ctx context.Context) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
}

type fixedStates struct{ o rxgo.Observable }

func (f fixedStates) Value() int               { return 0 }
func (f fixedStates) Observe() rxgo.Observable { return f.o }
