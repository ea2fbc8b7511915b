package rx

import (
	"context"
	"reflect"
	"time"

	"github.com/reactivex/rxgo/v2"
)

// DebounceTime emits an item of src once d has passed without another
// one, the latest of a burst: RxJS's debounceTime. When src completes, the
// item still waiting goes out at once, then the output completes (rxgo's
// Debounce drops it). An error from src drops the waiting item and ends
// the output. A d of zero or less passes items on as soon as nothing
// newer is waiting.
func DebounceTime(src rxgo.Observable, d time.Duration) rxgo.Observable {
	if src == nil {
		return failed(ErrNilObservable)
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		items, stop := subscribe(ctx, src)
		defer stop()
		var (
			pending rxgo.Item
			waiting bool
			timer   *time.Timer
			due     <-chan time.Time // nil while nothing waits
		)
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		for {
			select {
			case it, ok := <-items:
				if !ok {
					if waiting {
						send(ctx, next, pending)
					}
					return
				}
				if it.E != nil {
					send(ctx, next, it)
					return
				}
				pending, waiting = it, true
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d) // no stale tick since Go 1.23
				}
				due = timer.C
			case <-due:
				due, waiting = nil, false
				if !send(ctx, next, pending) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}})
}

// Take mirrors the first n items of src, then completes, and cancels its
// subscription to src at once: RxJS's take. (rxgo's Take completes only
// when item n+1 arrives and never cancels its upstream.) A count of zero
// or less completes at once without subscribing to src. An error from src
// before the n-th item is passed on and ends the output.
func Take(src rxgo.Observable, n int) rxgo.Observable {
	if src == nil {
		return failed(ErrNilObservable)
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		if n <= 0 {
			return
		}
		items, stop := subscribe(ctx, src)
		defer stop()
		for taken := 0; taken < n; taken++ {
			select {
			case it, ok := <-items:
				if !ok || !send(ctx, next, it) || it.E != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}})
}

// DistinctUntilChanged drops every item of src that equals the last item
// it passed on: RxJS's distinctUntilChanged. eq(last, v) says whether
// they are equal; nil compares with reflect.DeepEqual (Go values have no
// identity to compare, and == panics on some of them). Errors pass
// through and end the output.
func DistinctUntilChanged(src rxgo.Observable, eq func(last, v any) bool) rxgo.Observable {
	if src == nil {
		return failed(ErrNilObservable)
	}
	if eq == nil {
		eq = reflect.DeepEqual
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		items, stop := subscribe(ctx, src)
		defer stop()
		var last any
		first := true
		for {
			select {
			case it, ok := <-items:
				if !ok {
					return
				}
				if it.E == nil {
					same, err := guard(func() bool { return !first && eq(last, it.V) })
					if err != nil {
						send(ctx, next, rxgo.Error(err))
						return
					}
					if same {
						continue
					}
					first, last = false, it.V
				}
				if !send(ctx, next, it) || it.E != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}})
}

// Merge mirrors every item of all the sources, as they come, and completes
// when all of them have: RxJS's merge. It subscribes to them, in order,
// when it is observed (rxgo's Merge subscribes when it is built, and its
// goroutines block forever once nobody reads). An error from any source
// is passed on, ends the output and cancels the others. A nil source is
// ErrNilObservable.
func Merge(sources ...rxgo.Observable) rxgo.Observable {
	type event struct {
		it   rxgo.Item
		done bool
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		for _, o := range sources {
			if o == nil {
				send(ctx, next, rxgo.Error(ErrNilObservable))
				return
			}
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		events := make(chan event)
		for _, o := range sources {
			go pump(ctx, o.Observe(rxgo.WithContext(ctx)), events,
				func(it rxgo.Item) event { return event{it: it} }, event{done: true})
		}
		for live := len(sources); live > 0; {
			select {
			case e := <-events:
				if e.done {
					live--
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
