package epics

import (
	"context"
	"errors"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Clock is the pool's only timer. It reads as its timeline:
//
//	state$ ─► next deadline (Deadlines.Min) ─► distinct
//	       ─switchMap─► timer(deadline) ─► bot/DUE for every bot due
//
// The first step is store.Select: the store computes the next deadline as
// it commits each state, so the states that leave it as it was (every
// send, every message) wake no goroutine.
//
// The reducer decides what a bot/DUE means (a ding, a failure, a reset);
// the Effect epic's handlers do it. Every deadline the clock waits for is
// in the state, so a jump in time or a new process rebuilds it from the
// state alone, and the next deadline among any number of bots costs no
// scan.
func Clock[S any](get func(S) reducers.Pool) store.Epic[S] {
	return func(ctx context.Context, _ rxgo.Observable, state store.StateStream[S]) rxgo.Observable {
		if get == nil {
			return rxgo.Thrown(errors.New("epics: Clock with a nil get"))
		}
		deadlines := store.Select(state, func(s S) int64 { // UnixNano; 0 for none
			// The deadlines alone, not NextDeadline(get(s)): that would
			// copy the whole state once more on every commit.
			if t, _, ok := get(s).Deadlines.Min(); ok && !t.IsZero() {
				return t.UnixNano()
			}
			return 0
		})
		return rx.SwitchMap(deadlines, func(ctx context.Context, v any) rxgo.Observable {
			var t time.Time
			if ns := v.(int64); ns != 0 {
				t = time.Unix(0, ns)
			}
			return dueAt(t, func() reducers.Pool { return get(state.Value()) })
		})
	}
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
