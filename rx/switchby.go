package rx

import (
	"context"

	"github.com/reactivex/rxgo/v2"
)

// SwitchMapBy is SwitchMap per key: items of src with the same key(v)
// switch among themselves, and the inner Observables of different keys
// run side by side. RxJS's groupBy(key) then mergeMap of each group
// through switchMap(project): a heartbeat per bot, restarted by each of
// that bot's messages, is
//
//	rx.SwitchMapBy(messages, botOf, func(ctx context.Context, v any) rxgo.Observable {
//		return rx.TakeUntil(rx.TimerEvery(dingAfter, dingEvery, dingOf(v)), dongsOf(v))
//	})
//
// A new item cancels the inner Observable of its key (its ctx ends)
// before project is called. The output completes when src has completed
// and every inner Observable has too. An error from src or from any
// inner Observable is passed on and ends the output. Only keys whose
// inner Observable still runs are held in memory.
func SwitchMapBy[K comparable](src rxgo.Observable, key func(v any) K, project func(ctx context.Context, v any) rxgo.Observable) rxgo.Observable {
	type event struct {
		key  K
		gen  uint64 // which inner Observable of the key sent it
		it   rxgo.Item
		done bool // the inner Observable completed
	}
	type inner struct {
		gen    uint64
		cancel context.CancelFunc
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // ends every inner Observable too
		outer, stop := subscribe(ctx, src)
		defer stop()
		events := make(chan event)
		inners := map[K]inner{}
		var gen uint64
		for outer != nil || len(inners) > 0 {
			select {
			case it, ok := <-outer:
				if !ok {
					outer = nil
					continue
				}
				if it.E != nil {
					send(ctx, next, it)
					return
				}
				k := key(it.V)
				if in, live := inners[k]; live {
					in.cancel()
				}
				gen++
				innerCtx, innerCancel := context.WithCancel(ctx)
				o := project(innerCtx, it.V)
				if o == nil {
					innerCancel()
					send(ctx, next, rxgo.Error(ErrNilObservable))
					return
				}
				inners[k] = inner{gen: gen, cancel: innerCancel}
				g := gen
				go pump(innerCtx, o.Observe(rxgo.WithContext(innerCtx)), events,
					func(it rxgo.Item) event { return event{key: k, gen: g, it: it} },
					event{key: k, gen: g, done: true})
			case e := <-events:
				if in, live := inners[e.key]; !live || in.gen != e.gen {
					continue // from an inner Observable already switched off
				}
				if e.done {
					inners[e.key].cancel()
					delete(inners, e.key)
					continue
				}
				if !send(ctx, next, e.it) || e.it.E != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}})
}
