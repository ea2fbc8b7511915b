package store_test

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/internal/syncbuf"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A commit hook sees every state the store holds, each with the action
// that made it, in dispatch order, even while other goroutines dispatch:
// the state it is given is the one its action produced, not a later one.
func TestCommitHookSeesEveryStateWithItsAction(t *testing.T) {
	type seen struct {
		seq   uint64
		typ   string
		state int
	}
	var log []seen // written by the hook only, under the store's lock
	s, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, st *int) {
		log = append(log, seen{a.Meta.Seq, a.Type, *st})
	}))
	require.NoError(t, err)
	defer s.Stop()

	const writers, each = 4, 300
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				assert.NoError(t, s.Dispatch(add.New(1)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Replace(1000, "test"))
	require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))

	require.Len(t, log, writers*each+2)
	for i, e := range log {
		require.Equal(t, uint64(i+1), e.seq, "hook %d", i)
	}
	for i, e := range log[:writers*each] {
		// Every add is 1: the state after action n is n.
		require.Equal(t, i+1, e.state, "action %d", e.seq)
	}
	assert.Equal(t, seen{uint64(writers*each + 1), actions.Replaced.Type(), 1000}, log[writers*each])
	assert.Equal(t, seen{uint64(writers*each + 2), noise.Type(), 1000}, log[writers*each+1])
}

// A hook runs under the store's lock: a dispatch from it gets ErrInHook
// instead of waiting for itself, and so do Replace and ReplaceReducer.
// State is fine, and gives the state the hook was handed.
func TestCommitHookCannotDispatch(t *testing.T) {
	var fromHook []error
	var st *store.Store[int]
	var read []int
	st, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, s *int) {
		if !add.Is(a) {
			return
		}
		read = append(read, st.State())
		fromHook = append(fromHook,
			st.Dispatch(noise.New(actions.Empty{})),
			st.Replace(7, "hook"),
			st.ReplaceReducer(counter))
	}))
	require.NoError(t, err)
	defer st.Stop()
	require.NoError(t, st.Dispatch(add.New(2)))
	require.Len(t, fromHook, 3)
	for _, err := range fromHook {
		assert.ErrorIs(t, err, store.ErrInHook)
	}
	assert.Equal(t, []int{2}, read)
	assert.Equal(t, 2, st.State(), "nothing the hook tried was done")
	assert.Equal(t, uint64(1), st.Seq())
	require.NoError(t, st.Dispatch(add.New(1)), "the store goes on")
	assert.Equal(t, 3, st.State())
}

// A hook that panics is logged; the action stays committed, the other
// hooks run, and the store goes on.
func TestCommitHookPanicIsLogged(t *testing.T) {
	var out syncbuf.Buffer
	var after []int
	st, err := store.New(counter, 0,
		store.WithLogger[int](slog.New(slog.NewTextHandler(&out, nil))),
		store.WithCommitHook(func(a actions.Action, s *int) {
			if *s == 2 {
				panic("hook bug")
			}
		}),
		store.WithCommitHook(func(a actions.Action, s *int) { after = append(after, *s) }))
	require.NoError(t, err)
	defer st.Stop()
	require.NoError(t, st.Dispatch(add.New(2)))
	require.NoError(t, st.Dispatch(add.New(1)))
	assert.Equal(t, 3, st.State())
	assert.Equal(t, []int{2, 3}, after)
	assert.Contains(t, out.String(), "commit hook panicked")
	assert.Contains(t, out.String(), "hook bug")
}

func TestCommitHookNil(t *testing.T) {
	_, err := store.New(counter, 0, store.WithCommitHook[int](nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithCommitHook(nil)")
}

// Every other method of the store works from a hook, or says it cannot:
// none waits for the lock the hook runs under.
func TestCommitHookCallsTheStore(t *testing.T) {
	var st *store.Store[int]
	type got struct {
		seq      uint64
		start    error
		sub      bool
		subClose bool
	}
	var in []got
	st, err := store.New(counter, 0, store.WithCommitHook(func(a actions.Action, s *int) {
		if !add.Is(a) {
			return
		}
		g := got{seq: st.Seq(), start: st.Start(t.Context())}
		sub := st.Subscribe(1)
		sub.Close()
		_, open := <-sub.C()
		g.sub, g.subClose = sub != nil, !open
		in = append(in, g)
		if *s == 3 {
			st.Stop()
		}
	}))
	require.NoError(t, err)
	keep := st.Subscribe(10) // a subscription made outside stays
	require.NoError(t, st.Dispatch(add.New(1)))
	require.NoError(t, st.Dispatch(add.New(2)))
	require.Equal(t, []got{{1, store.ErrInHook, true, true}, {2, store.ErrInHook, true, true}}, in)
	assert.Equal(t, 1, (<-keep.C()).State)
	assert.Equal(t, 3, (<-keep.C()).State)

	<-st.Done() // Stop from the hook stopped the store once the hook returned
	st.Stop()
	assert.ErrorIs(t, st.Dispatch(add.New(1)), store.ErrStopped)
	_, open := <-keep.C()
	assert.False(t, open, "stopping closed the subscription")
}
