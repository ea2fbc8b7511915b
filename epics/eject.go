package epics

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Eject fails a bot at once after EjectAfter consecutive sends that were
// not delivered (not sent, or outcome unknown), as a load balancer's
// outlier detection does. Permanent failures (a bad target) do not count.
func Eject(cfg Config) store.Epic[reducers.Pool] {
	cfg = cfg.Defaults()
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[reducers.Pool]) rxgo.Observable {
		return in.Filter(func(v any) bool {
			p, ok := actions.SendResult.Match(v.(actions.Action))
			if !ok || (p.Outcome != reducers.OutcomeNotSent && p.Outcome != reducers.OutcomeUnknown) {
				return false
			}
			b, ok := state.Value().Bots.Get(p.Bot)
			return ok && b.Available && b.Failures >= cfg.EjectAfter
		}, rxgo.WithContext(ctx)).Map(func(_ context.Context, v any) (any, error) {
			p, _ := actions.SendResult.Match(v.(actions.Action))
			return actions.BotFailed.New(actions.ReasonPayload{
				Bot: p.Bot, Reason: fmt.Sprintf("%d consecutive failed sends", cfg.EjectAfter)}), nil
		}, rxgo.WithContext(ctx))
	}
}

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
