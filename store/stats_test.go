package store_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedEpic takes its first action (INIT) at once, then waits for gate
// before it takes the others, and counts them in order: a subscriber
// that falls behind.
func gatedEpic(gate <-chan struct{}, started chan<- struct{}, seen *atomic.Int64, order *[]int) store.Epic[int] {
	return func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
			first := true
			for it := range in.Observe(rxgo.WithContext(ctx)) {
				a := it.V.(actions.Action)
				if n, ok := add.Match(a); ok {
					*order = append(*order, n)
				}
				seen.Add(1)
				if first {
					first = false
					close(started)
					select {
					case <-gate:
					case <-ctx.Done():
						return
					}
				}
			}
		}}, rxgo.WithContext(ctx))
	}
}

// waitFor waits, up to 10 s, for cond; it yields rather than sleeps.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		runtime.Gosched()
	}
}

func TestEpicBacklog(t *testing.T) {
	reducer := func(s int, _ actions.Action) int { return s + 1 }
	t.Run("no epics, not started", func(t *testing.T) {
		s, err := store.New(reducer, 0)
		require.NoError(t, err)
		defer s.Stop()
		require.NoError(t, s.Dispatch(add.New(1)))
		assert.Zero(t, s.EpicBacklog())
	})
	t.Run("an epic that falls behind, then catches up", func(t *testing.T) {
		gate, started := make(chan struct{}), make(chan struct{})
		var seen atomic.Int64
		var order []int
		s, err := store.New(reducer, 0, store.WithEpic("gated", gatedEpic(gate, started, &seen, &order)))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		<-started // INIT taken; the epic waits
		assert.Zero(t, s.EpicBacklog())
		// More than the epic's channel holds: the rest is queued, and
		// every one is counted once.
		const n = 3000
		for i := range n {
			require.NoError(t, s.Dispatch(add.New(i)))
		}
		assert.Equal(t, n, s.EpicBacklog())
		close(gate)
		waitFor(t, "the epic takes every action", func() bool { return seen.Load() == n+1 })
		waitFor(t, "the backlog is empty", func() bool { return s.EpicBacklog() == 0 })
		require.Len(t, order, n)
		for i, v := range order {
			require.Equal(t, i, v, "actions out of order")
		}
	})
	t.Run("an epic that never subscribes yet", func(t *testing.T) {
		gate := make(chan struct{})
		late := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
				select {
				case <-gate:
				case <-ctx.Done():
					return
				}
				for range in.Observe(rxgo.WithContext(ctx)) {
				}
			}}, rxgo.WithContext(ctx))
		}
		s, err := store.New(reducer, 0, store.WithEpic("late", late))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		for i := range 10 {
			require.NoError(t, s.Dispatch(add.New(i)))
		}
		assert.Equal(t, 11, s.EpicBacklog(), "INIT and 10 actions wait in the mailbox")
		close(gate)
		waitFor(t, "the backlog is empty", func() bool { return s.EpicBacklog() == 0 })
	})
}

// TestInletKeepsOrderUnderConcurrentDispatch: actions dispatched from
// several goroutines while an epic drains a backlog reach it each once,
// each goroutine's in its order, and in the store's order (Meta.Seq).
func TestInletKeepsOrderUnderConcurrentDispatch(t *testing.T) {
	gate, started := make(chan struct{}), make(chan struct{})
	var seen atomic.Int64
	var order []int
	var seqs []uint64
	var mu sync.Mutex
	epic := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
			first := true
			for it := range in.Observe(rxgo.WithContext(ctx)) {
				a := it.V.(actions.Action)
				mu.Lock()
				seqs = append(seqs, a.Meta.Seq)
				if n, ok := add.Match(a); ok {
					order = append(order, n)
				}
				mu.Unlock()
				seen.Add(1)
				if first {
					first = false
					close(started)
					<-gate
				}
			}
		}}, rxgo.WithContext(ctx))
	}
	s, err := store.New(func(s int, _ actions.Action) int { return s + 1 }, 0, store.WithEpic("e", epic))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	defer s.Stop()
	<-started
	const writers, each = 4, 2000
	for i := range 500 { // a backlog before the writers start
		require.NoError(t, s.Dispatch(add.New(-1-i)))
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Dispatch(add.New(w*each + i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	close(gate) // drain while the writers dispatch
	wg.Wait()
	total := int64(1 + 500 + writers*each)
	waitFor(t, "the epic takes every action", func() bool { return seen.Load() == total })
	mu.Lock()
	defer mu.Unlock()
	for i, q := range seqs {
		require.Equal(t, uint64(i+1), q, "the epic saw Seq %d at position %d", q, i)
	}
	last := map[int]int{}
	for _, v := range order {
		if v < 0 {
			continue
		}
		w := v / each
		if prev, ok := last[w]; ok {
			require.Less(t, prev, v, "writer %d's actions out of order", w)
		}
		last[w] = v
	}
}
