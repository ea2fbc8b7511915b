package epics

import (
	"context"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Clock is the pool's only timer. It reads as its timeline:
//
//	state$ ─► next deadline (selectors.NextDeadline) ─► distinct
//	       ─switchMap─► timer(deadline) ─► bot/DUE for every bot due
//
// The reducer decides what a bot/DUE means (a ding, a failure, a reset);
// the Effect epic's handlers do it. Every deadline the clock waits for is
// in the state, so a jump in time or a new process rebuilds it from the
// state alone, and the next deadline among any number of bots costs no
// scan.
func Clock[S any](get func(S) reducers.Pool) store.Epic[S] {
	return func(ctx context.Context, _ rxgo.Observable, state store.StateStream[S]) rxgo.Observable {
		deadlines := nextDeadlines(ctx, state.Observe(), get)
		return rx.SwitchMap(deadlines, func(ctx context.Context, v any) rxgo.Observable {
			return dueAt(v.(time.Time), func() reducers.Pool { return get(state.Value()) })
		})
	}
}

// nextDeadlines maps states to the pool's next deadline (zero for none)
// and passes it on only when it changed: map and distinctUntilChanged in
// one step, so that a state costs one hop.
func nextDeadlines[S any](ctx context.Context, states rxgo.Observable, get func(S) reducers.Pool) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(pctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		items := states.Observe(rxgo.WithContext(ctx))
		first, last := true, time.Time{}
		for {
			select {
			case it, ok := <-items:
				if !ok {
					return
				}
				if it.E != nil {
					next <- it
					return
				}
				s, isState := it.V.(S)
				if !isState {
					continue
				}
				t, _ := selectors.NextDeadline(get(s))
				if !first && t.Equal(last) {
					continue
				}
				first, last = false, t
				select {
				case next <- rxgo.Of(t):
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			case <-pctx.Done():
				return
			}
		}
	}}, rxgo.WithContext(ctx))
}

// dueAt waits until t, then emits a bot/DUE for every bot whose deadline
// has passed: a timer whose firing is actions. A zero t never fires.
func dueAt(t time.Time, state func() reducers.Pool) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		if t.IsZero() {
			<-ctx.Done()
			return
		}
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		if now.Before(t) {
			now = t
		}
		for at, bot := range state().Deadlines.Ascend() {
			if at.After(now) {
				break
			}
			select {
			case next <- rxgo.Of(actions.Due.New(actions.DuePayload{Bot: bot, At: at})):
			case <-ctx.Done():
				return
			}
		}
	}})
}
