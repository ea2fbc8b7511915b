package store_test

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockedOnLock waits until some goroutine other than the caller is
// blocked acquiring a mutex with all of the given functions on its
// stack (a condition with a deadline, not a sleep).
func blockedOnLock(t *testing.T, done <-chan error, frames ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the dispatch returned while it should wait for the lock: %v", err)
		default:
		}
		n := runtime.Stack(buf, true)
		for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
			if !strings.Contains(g, "[sync.Mutex.Lock") && !strings.Contains(g, "sync.(*Mutex).Lock") {
				continue
			}
			all := true
			for _, f := range frames {
				all = all && strings.Contains(g, f)
			}
			if all {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatal("no goroutine blocked on the store's lock")
}

// gate is a hook that blocks on the first action of type blockOn until
// released, telling when it has started blocking.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	freed   sync.Once
}

// free releases the hook (again: a no-op).
func (g *gate) free() { g.freed.Do(func() { close(g.release) }) }

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) hook(a actions.Action, _ *int) {
	if !ping.Is(a) {
		return
	}
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
}

// A plain dispatcher on another goroutine while a hook runs waits for the
// hook, then succeeds: it never gets ErrInHook.
func TestReviewDispatcherElsewhereWaitsForAHook(t *testing.T) {
	g := newGate()
	st, err := store.New(counter, 0, store.WithCommitHook(g.hook))
	require.NoError(t, err)
	defer st.Stop()
	defer g.free()
	first := make(chan error, 1)
	go func() { first <- st.Dispatch(ping.New(0)) }()
	<-g.entered
	second := make(chan error, 1)
	go func() { second <- st.Dispatch(add.New(5)) }()
	blockedOnLock(t, second, "store.(*Store[...]).reduce")
	g.free()
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	assert.Equal(t, 5, st.State())
}

// A hook may start a goroutine that dispatches: that dispatch is not in
// the hook (no ErrInHook) and goes through once the hook has returned.
func TestReviewHookStartsADispatchingGoroutine(t *testing.T) {
	var st *store.Store[int]
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	st, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, s *int) {
		if ping.Is(a) {
			wg.Go(func() { errs <- st.Dispatch(add.New(3)) })
		}
	}))
	require.NoError(t, err)
	defer st.Stop()
	require.NoError(t, st.Dispatch(ping.New(0)))
	wg.Wait()
	require.NoError(t, <-errs)
	assert.Equal(t, 3, st.State())
	assert.Equal(t, uint64(2), st.Seq())
}

// Replace and ReplaceReducer commits reach the hook with their action and
// the state they produced, in order with the dispatches.
func TestReviewHookSeesReplaceAndReplaceReducer(t *testing.T) {
	type seen struct {
		typ   string
		seq   uint64
		state int
	}
	var log []seen
	st, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, s *int) {
		log = append(log, seen{a.Type, a.Meta.Seq, *s})
	}))
	require.NoError(t, err)
	defer st.Stop()
	require.NoError(t, st.Dispatch(add.New(1)))
	require.NoError(t, st.Replace(10, "test"))
	double := func(prev int, a actions.Action) int {
		if actions.ReducerReplaced.Is(a) {
			return prev * 2
		}
		return counter(prev, a)
	}
	require.NoError(t, st.ReplaceReducer(double))
	require.NoError(t, st.Dispatch(add.New(1)))
	assert.Equal(t, []seen{
		{add.Type(), 1, 1},
		{actions.Replaced.Type(), 2, 10},
		{actions.ReducerReplaced.Type(), 3, 20},
		{add.Type(), 4, 21},
	}, log)
}

// A hook's ErrInHook is its own: once it has returned (or panicked), the
// same goroutine dispatches again.
func TestReviewInHookEndsWithTheHook(t *testing.T) {
	var st *store.Store[int]
	var inHook error
	st, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, s *int) {
		if ping.Is(a) {
			inHook = st.Dispatch(noise.New(actions.Empty{}))
			panic("after the try")
		}
	}))
	require.NoError(t, err)
	defer st.Stop()
	require.NoError(t, st.Dispatch(ping.New(0)))
	assert.ErrorIs(t, inHook, store.ErrInHook)
	require.NoError(t, st.Dispatch(add.New(2)), "the hook's mark is gone with its panic")
	require.NoError(t, st.Replace(4, "test"))
	require.NoError(t, st.ReplaceReducer(counter))
	assert.Equal(t, 4, st.State())
}

// A hook of one store may dispatch into another store (it holds only its
// own store's lock) while that other store's hook runs on a third
// goroutine: the dispatch waits for that hook, it is not refused as if
// it were made from that store's hook.
func TestReviewHookDispatchesIntoAnotherStoreWhoseHookRuns(t *testing.T) {
	g := newGate()
	b, err := store.New(counter, 0, store.WithCommitHook(g.hook))
	require.NoError(t, err)
	defer b.Stop()
	intoB := make(chan error, 1)
	a, err := store.New(counter, 0, store.WithCommitHook(func(x actions.Action, s *int) {
		if add.Is(x) {
			intoB <- b.Dispatch(add.New(7))
		}
	}))
	require.NoError(t, err)
	defer a.Stop()
	defer g.free()

	first := make(chan error, 1)
	go func() { first <- b.Dispatch(ping.New(0)) }() // b's hook blocks
	<-g.entered
	aDone := make(chan error, 1)
	go func() { aDone <- a.Dispatch(add.New(1)) }()
	blockedOnLock(t, intoB, "callHook", "store.(*Store[...]).reduce")
	g.free()
	require.NoError(t, <-first)
	require.NoError(t, <-aDone)
	require.NoError(t, <-intoB, "b's hook was not on this goroutine")
	assert.Equal(t, 7, b.State())
	assert.Equal(t, 1, a.State())
}

type selfDispatcher struct {
	st  *store.Store[int]
	got []error
}

func (d *selfDispatcher) hook(a actions.Action, _ *int) {
	if ping.Is(a) {
		d.got = append(d.got, d.st.Dispatch(noise.New(actions.Empty{})))
	}
}

func topLevelHookStore() *store.Store[int] { return topLevel }

var topLevel *store.Store[int]

var topLevelGot []error

func topLevelHook(a actions.Action, _ *int) {
	if ping.Is(a) {
		topLevelGot = append(topLevelGot, topLevelHookStore().Dispatch(noise.New(actions.Empty{})))
	}
}

// A hook given as a method value or a top-level function is found on the
// stack as a closure is: its dispatch gets ErrInHook, not a deadlock.
func TestReviewInHookForMethodValuesAndFunctions(t *testing.T) {
	d := &selfDispatcher{}
	var err error
	d.st, err = store.New(counter, 0, store.WithCommitHook(d.hook))
	require.NoError(t, err)
	defer d.st.Stop()
	require.NoError(t, d.st.Dispatch(ping.New(0)))
	require.Len(t, d.got, 1)
	assert.ErrorIs(t, d.got[0], store.ErrInHook)

	topLevel, err = store.New(counter, 0, store.WithCommitHook(topLevelHook))
	require.NoError(t, err)
	defer topLevel.Stop()
	require.NoError(t, topLevel.Dispatch(ping.New(0)))
	require.Len(t, topLevelGot, 1)
	assert.ErrorIs(t, topLevelGot[0], store.ErrInHook)
}
