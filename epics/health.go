package epics

import (
	"context"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// PoolHealth emits actions.PoolFailed when the last available bot becomes
// unavailable, and actions.PoolRecovered when the first one is back.
func PoolHealth() store.Epic[reducers.Pool] {
	return func(ctx context.Context, _ rxgo.Observable, state store.StateStream[reducers.Pool]) rxgo.Observable {
		wasUp, down := false, false
		return state.Observe().FlatMap(func(it rxgo.Item) rxgo.Observable {
			s, ok := it.V.(reducers.Pool)
			if !ok {
				return rxgo.Empty()
			}
			switch {
			case s.Available > 0 && down:
				down, wasUp = false, true
				return rxgo.Just(actions.PoolRecovered.New(actions.Empty{}))()
			case s.Available > 0:
				wasUp = true
			case s.Available == 0 && wasUp && !down:
				down = true
				return rxgo.Just(actions.PoolFailed.New(actions.Empty{}))()
			}
			return rxgo.Empty()
		}, rxgo.WithContext(ctx))
	}
}
