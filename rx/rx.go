package rx

import (
	"context"
	"errors"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// ErrNilObservable is the error SwitchMap emits when its project function
// returns nil.
var ErrNilObservable = errors.New("rx: the project function returned a nil Observable")

// send hands it to next unless ctx ends first; it reports whether it did.
func send(ctx context.Context, next chan<- rxgo.Item, it rxgo.Item) bool {
	select {
	case next <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

// drain reads ch until it closes, in the background: an upstream whose
// context was cancelled may still be sending, and must not block forever.
func drain(ch <-chan rxgo.Item) {
	if ch == nil {
		return
	}
	go func() {
		for range ch {
		}
	}()
}

// wait blocks for d of (virtual) time; false if ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Timer emits v once, d after it is observed, then completes. (rxgo's
// Timer completes without an item.) Use it for a delay before an action,
// a backoff step for instance.
func Timer(d time.Duration, v any) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		if wait(ctx, d) {
			send(ctx, next, rxgo.Of(v))
		}
	}})
}

// Interval emits f(0), f(1), f(2)… every d, the first d after it is
// observed, until the subscriber's context ends. The schedule does not
// drift: item n is due at n+1 periods after the subscription, whatever
// the reader's pace. A nil f emits the counts themselves. A period of zero
// or less emits nothing and ends with the context.
func Interval(d time.Duration, f func(n int) any) rxgo.Observable {
	if f == nil {
		f = func(n int) any { return n }
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		if d <= 0 {
			<-ctx.Done()
			return
		}
		start := time.Now()
		for n := 0; ; n++ {
			if !wait(ctx, time.Until(start.Add(time.Duration(n+1)*d))) {
				return
			}
			if !send(ctx, next, rxgo.Of(f(n))) {
				return
			}
		}
	}})
}

// TakeUntil mirrors src until notifier emits its first item, then
// completes, and cancels both subscriptions. A notifier that completes
// without an item changes nothing; an error from either is passed on and
// ends the output. (rxgo's TakeUntil takes a predicate.)
func TakeUntil(src, notifier rxgo.Observable) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		notes := notifier.Observe(rxgo.WithContext(ctx))
		items := src.Observe(rxgo.WithContext(ctx))
		defer func() {
			cancel()
			drain(notes)
			drain(items)
		}()
		for {
			// A notification wins over an item that is ready at once.
			select {
			case it, ok := <-notes:
				if ok {
					if it.E != nil {
						send(ctx, next, it)
					}
					return
				}
				notes = nil
				continue
			default:
			}
			select {
			case it, ok := <-notes:
				if !ok {
					notes = nil
					continue
				}
				if it.E != nil {
					send(ctx, next, it)
				}
				return
			case it, ok := <-items:
				if !ok {
					return
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

// SwitchMap maps every item of src to an inner Observable and mirrors the
// latest one: a new item cancels the inner Observable before it (its ctx
// ends). It completes when src has completed and the last inner one has
// too. An error from src or from the current inner Observable is passed
// on and ends the output. RxJS's switchMap.
func SwitchMap(src rxgo.Observable, project func(ctx context.Context, v any) rxgo.Observable) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		outer := src.Observe(rxgo.WithContext(ctx))
		var inner <-chan rxgo.Item
		stopInner := func() {}
		defer func() {
			stopInner()
			cancel()
			drain(inner)
			drain(outer)
		}()
		for outer != nil || inner != nil {
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
				stopInner()
				drain(inner)
				innerCtx, innerCancel := context.WithCancel(ctx)
				stopInner = innerCancel
				o := project(innerCtx, it.V)
				if o == nil {
					send(ctx, next, rxgo.Error(ErrNilObservable))
					return
				}
				inner = o.Observe(rxgo.WithContext(innerCtx))
			case it, ok := <-inner:
				if !ok {
					inner = nil
					continue
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

// OfType passes the actions of the given types and drops everything else
// (including items that are not actions). Errors pass through.
func OfType(src rxgo.Observable, types ...string) rxgo.Observable {
	want := make(map[string]bool, len(types))
	for _, t := range types {
		want[t] = true
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		items := src.Observe(rxgo.WithContext(ctx))
		defer func() {
			cancel()
			drain(items)
		}()
		for {
			select {
			case it, ok := <-items:
				if !ok {
					return
				}
				if it.E != nil {
					send(ctx, next, it)
					return
				}
				if a, isAction := it.V.(actions.Action); !isAction || !want[a.Type] {
					continue
				}
				if !send(ctx, next, it) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}})
}
