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
// inner Observable is passed on and ends the output, and so is a panic of
// key or project (an error wrapping ErrPanicked, as RxJS sends what they
// throw). A nil src is ErrNilObservable, a nil key or project
// ErrNilFunction. Only keys whose inner Observable still runs are held in
// memory.
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
	switch {
	case src == nil:
		return failed(ErrNilObservable)
	case key == nil || project == nil:
		return failed(ErrNilFunction)
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
				// key, the map (a key of an interface type may hold a
				// value == cannot compare) and project may panic: the
				// output then fails, as RxJS's does when they throw.
				k, err := guard(func() K {
					k := key(it.V)
					if in, live := inners[k]; live {
						in.cancel()
					}
					return k
				})
				if err != nil {
					send(ctx, next, rxgo.Error(err))
					return
				}
				gen++
				innerCtx, innerCancel := context.WithCancel(ctx)
				o, err := guard(func() rxgo.Observable { return project(innerCtx, it.V) })
				if err == nil && o == nil {
					err = ErrNilObservable
				}
				if err != nil {
					innerCancel()
					send(ctx, next, rxgo.Error(err))
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
