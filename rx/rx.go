package rx

import (
	"context"
	"errors"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/internal/sleep"
	"github.com/reactivex/rxgo/v2"
)

// ErrNilObservable is the error an operator emits when it is given a nil
// source or notifier, and SwitchMap and SwitchMapBy when their project
// function returns nil.
var ErrNilObservable = errors.New("rx: a nil Observable (from a project function, or a source)")

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

// subscribe observes o under a child of ctx. stop cancels that context and
// drains what o still sends, so that its producer can finish.
func subscribe(ctx context.Context, o rxgo.Observable) (items <-chan rxgo.Item, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	items = o.Observe(rxgo.WithContext(ctx))
	return items, func() {
		cancel()
		drain(items)
	}
}

// pump hands every item of ch to out, wrapped, then end once ch is closed,
// until ctx ends; it then reads ch to its close, so that the producer
// behind it can finish. It is how one loop reads several observables.
func pump[T any](ctx context.Context, ch <-chan rxgo.Item, out chan<- T, wrap func(rxgo.Item) T, end T) {
	for it := range ch {
		select {
		case out <- wrap(it):
		case <-ctx.Done():
			for range ch {
			}
			return
		}
	}
	select {
	case out <- end:
	case <-ctx.Done():
	}
}

// Timer emits v once, d after it is observed, then completes. (rxgo's
// Timer completes without an item.) Use it for a delay before an action,
// a backoff step for instance.
func Timer(d time.Duration, v any) rxgo.Observable {
	return TimerEvery(d, 0, func(int) any { return v })
}

// TimerEvery emits f(0) due after it is observed, then f(1), f(2)… every
// period, until the subscriber's context ends: RxJS's timer(due, period).
// A due of zero or less emits f(0) at once. A period of zero or less
// emits f(0) only, then completes, as RxJS's timer(due) does (RxJS's
// timer(due, 0) would emit without end at one instant). The schedule
// does not drift: item n is due at due + n×period after the subscription,
// whatever the reader's pace; a schedule beyond the largest time.Time
// never comes. A nil f emits the counts themselves; an f that panics
// makes the output fail with an error wrapping ErrPanicked.
func TimerEvery(due, period time.Duration, f func(n int) any) rxgo.Observable {
	if f == nil {
		f = func(n int) any { return n }
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		start := time.Now().Add(due)
		for n := 0; ; n++ {
			if !sleep.For(ctx, time.Until(at(start, n, period))) {
				return
			}
			v, err := guard(func() any { return f(n) })
			if err != nil {
				send(ctx, next, rxgo.Error(err))
				return
			}
			if !send(ctx, next, rxgo.Of(v)) || period <= 0 {
				return
			}
		}
	}})
}

// Interval emits f(0), f(1), f(2)… every d, the first d after it is
// observed, until the subscriber's context ends. The schedule does not
// drift: item n is due at n+1 periods after the subscription, whatever
// the reader's pace. A nil f emits the counts themselves. A period of zero
// or less emits nothing and ends with the context.
func Interval(d time.Duration, f func(n int) any) rxgo.Observable {
	if d <= 0 {
		return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }})
	}
	return TimerEvery(d, d, f)
}

// TakeUntil mirrors src until notifier emits its first item, then
// completes, and cancels both subscriptions. A notifier that completes
// without an item changes nothing; an error from either is passed on and
// ends the output. (rxgo's TakeUntil takes a predicate.)
//
// As in RxJS, the notifier is subscribed first, and one that has notified
// by the time the source would be subscribed (its item is already waiting
// on its channel, as with rxgo.FromChannel over a channel that holds one)
// keeps the source from being subscribed at all. Go has no synchronous
// emission: a notifier whose producer goroutine is still on its way to
// its first item cannot be told from one that emits later, so the source
// may then be subscribed, and cut at once (see the package doc).
func TakeUntil(src, notifier rxgo.Observable) rxgo.Observable {
	if src == nil || notifier == nil {
		return failed(ErrNilObservable)
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		var notes, items <-chan rxgo.Item
		defer func() {
			cancel()
			drain(notes)
			drain(items)
		}()
		// notified handles an event of the notifier and reports whether
		// the output is over.
		notified := func(it rxgo.Item, ok bool) bool {
			if !ok {
				notes = nil // completed without an item: only src counts now
				return false
			}
			if it.E != nil {
				send(ctx, next, it)
			}
			return true
		}
		notes = notifier.Observe(rxgo.WithContext(ctx))
		select {
		case it, ok := <-notes:
			if notified(it, ok) {
				return
			}
		default:
		}
		items = src.Observe(rxgo.WithContext(ctx))
		for {
			// A notification wins over an item that is ready at once.
			select {
			case it, ok := <-notes:
				if notified(it, ok) {
					return
				}
				continue
			default:
			}
			select {
			case it, ok := <-notes:
				if notified(it, ok) {
					return
				}
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
	return SwitchMapBy(src, func(any) struct{} { return struct{}{} }, project)
}

// OfType passes the actions of the given types and drops everything else
// (including items that are not actions). Errors pass through.
func OfType(src rxgo.Observable, types ...string) rxgo.Observable {
	if src == nil {
		return failed(ErrNilObservable)
	}
	want := make(map[string]bool, len(types))
	for _, t := range types {
		want[t] = true
	}
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		items, stop := subscribe(ctx, src)
		defer stop()
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
