package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directOut is an epic output that the store feeds directly.
type directOut struct {
	rxgo.Observable
	emit func(rxgo.Item) bool
	got  chan struct{} // closed by Direct
}

func (o *directOut) Direct(emit func(rxgo.Item) bool) { o.emit = emit; close(o.got) }

// directEpic returns an epic whose output the store feeds directly, and
// the output, so that the test emits on it.
func directEpic() (store.Epic[[]string], *directOut) {
	out := &directOut{got: make(chan struct{})}
	return func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
		out.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
		return out
	}, out
}

// lastSource is a middleware that records the type and source of the
// last action dispatched, which last returns.
func lastSource() (record store.Middleware[[]string], last func() string) {
	var mu sync.Mutex
	var seen string
	record = func(store.API[[]string]) func(store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				mu.Lock()
				seen = a.Type + " " + a.Meta.Source
				mu.Unlock()
				return next(a)
			}
		}
	}
	return record, func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func TestDirectOutput(t *testing.T) {
	t.Run("dispatched at once, after INIT, as the epic's", func(t *testing.T) {
		epic, out := directEpic()
		record, last := lastSource()
		s, err := store.New(types, nil, store.WithEpic("direct", epic), store.WithMiddleware(record))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		<-out.got
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { assert.True(t, out.emit(rxgo.Of(action1.New(actions.Empty{})))) })
		}
		wg.Wait()
		// emit returns once the action is reduced.
		assert.Equal(t, []string{actions.Init.Type(), action1.Type(), action1.Type(), action1.Type(), action1.Type()}, s.State())
		assert.Equal(t, "test/ACTION_1 epic/direct", last())
	})
	t.Run("a value that is not an action fails the epic once", func(t *testing.T) {
		epic, out := directEpic()
		s, err := store.New(types, nil, store.WithEpic("direct", epic))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		<-out.got
		assert.False(t, out.emit(rxgo.Of(42)))
		assert.False(t, out.emit(rxgo.Of(action1.New(actions.Empty{}))), "the failed epic emits nothing more")
		assert.Equal(t, []string{actions.Init.Type(), actions.EpicFailed.Type()}, s.State())
	})
	t.Run("after Stop", func(t *testing.T) {
		epic, out := directEpic()
		s, err := store.New(types, nil, store.WithEpic("direct", epic))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		<-out.got
		s.Stop()
		assert.False(t, out.emit(rxgo.Of(action1.New(actions.Empty{}))))
		assert.Equal(t, []string{actions.Init.Type()}, s.State())
	})
}

// bareOut is a directOut that also takes bare actions (DirectActions).
type bareOut struct {
	*directOut
	emitAction func(actions.Action) bool
}

func (o *bareOut) DirectActions(emit func(actions.Action) bool) { o.emitAction = emit }

func TestDirectActions(t *testing.T) {
	inner, direct := directEpic()
	out := &bareOut{directOut: direct}
	epic := func(ctx context.Context, in rxgo.Observable, st store.StateStream[[]string]) rxgo.Observable {
		inner(ctx, in, st)
		return out
	}
	record, last := lastSource()
	s, err := store.New(types, nil, store.WithEpic("bare", epic), store.WithMiddleware(record))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	<-out.got
	require.NotNil(t, out.emitAction, "DirectActions is called with Direct")
	assert.True(t, out.emitAction(action1.New(actions.Empty{})))
	assert.Equal(t, []string{actions.Init.Type(), action1.Type()}, s.State(), "reduced when emitAction returns")
	assert.Equal(t, "test/ACTION_1 epic/bare", last())
	s.Stop()
	assert.False(t, out.emitAction(action1.New(actions.Empty{})), "refused after Stop")
	assert.False(t, out.emit(rxgo.Of(action1.New(actions.Empty{}))))
}
