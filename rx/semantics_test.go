package rx_test

// Bad input to the operators, against what RxJS does with it: RxJS sends
// what a project, key, comparator or item function throws to the
// subscriber as an error notification (its operators wrap every call of
// user code), and a missing source fails the subscription; neither crashes
// the program. Here a panic on an rxgo goroutine would end the process, so
// each case below must be an error item.

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/rx"
	"github.com/reactivex/rxgo/v2"
)

func TestNilSourcesAreErrorsNotPanics(t *testing.T) {
	nilErr := []got{{At: 0, Err: rx.ErrNilObservable.Error()}}
	identity := func(_ context.Context, v any) rxgo.Observable { return rxgo.Just(v)() }
	cases := map[string]rxgo.Observable{
		"OfType":               rx.OfType(nil, "A"),
		"TakeUntil source":     rx.TakeUntil(nil, rxgo.Never()),
		"TakeUntil notifier":   rx.TakeUntil(rxgo.Never(), nil),
		"DebounceTime":         rx.DebounceTime(nil, s),
		"Take":                 rx.Take(nil, 1),
		"DistinctUntilChanged": rx.DistinctUntilChanged(nil, nil),
		"SwitchMap":            rx.SwitchMap(nil, identity),
		"SwitchMapBy":          rx.SwitchMapBy(nil, func(any) int { return 0 }, identity),
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { check(t, nilErr, collect(t, o, s)) })
		})
	}
	nilFn := []got{{At: 0, Err: rx.ErrNilFunction.Error()}}
	fns := map[string]rxgo.Observable{
		"SwitchMap project":   rx.SwitchMap(at(s, "a"), nil),
		"SwitchMapBy key":     rx.SwitchMapBy[int](at(s, "a"), nil, identity),
		"SwitchMapBy project": rx.SwitchMapBy(at(s, "a"), func(any) int { return 0 }, nil),
	}
	for name, o := range fns {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { check(t, nilFn, collect(t, o, s)) })
		})
	}
}

// panicked checks the last item of o: an error wrapping rx.ErrPanicked
// at d, after before items.
func panicked(t *testing.T, o rxgo.Observable, d time.Duration, cause string, before int) {
	t.Helper()
	items := collect(t, o, 10*s)
	if len(items) != before+1 {
		t.Fatalf("want %d items then an error wrapping ErrPanicked (%q), got %+v", before, cause, items)
	}
	last := items[before]
	if last.At != d || !strings.HasPrefix(last.Err, rx.ErrPanicked.Error()) || !strings.Contains(last.Err, cause) {
		t.Fatalf("want an error wrapping ErrPanicked (%q) at %v, got %+v", cause, d, items)
	}
}

func TestCallbackPanicsFailTheOutputAsRxJSThrowsDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := func(context.Context, any) rxgo.Observable { panic("project boom") }
		panicked(t, rx.SwitchMap(at(s, "a"), boom), s, "project boom", 0)
		key := func(any) string { panic("key boom") }
		panicked(t, rx.SwitchMapBy(at(s, "a"), key, func(context.Context, any) rxgo.Observable { return rxgo.Empty() }), s, "key boom", 0)
		// A key of an interface type that holds a slice cannot be a map
		// key: the map lookup panics.
		slice := func(v any) any { return []any{v} }
		panicked(t, rx.SwitchMapBy(at(s, "a"), slice, func(context.Context, any) rxgo.Observable { return rxgo.Empty() }), s, "unhashable", 0)
		eq := func(any, any) bool { panic(errors.New("eq boom")) }
		panicked(t, rx.DistinctUntilChanged(at(zero, "a", s, "b"), eq), s, "eq boom", 1)
		item := func(int) any { panic("item boom") }
		panicked(t, rx.TimerEvery(2*s, s, item), 2*s, "item boom", 0)
		panicked(t, rx.Interval(3*s, item), 3*s, "item boom", 0)
	})
}

func TestPanicErrorWrapsAPanickedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("cause")
		o := rx.SwitchMap(at(s, "a"), func(context.Context, any) rxgo.Observable { panic(cause) })
		ch := o.Observe(rxgo.WithContext(t.Context()))
		it := <-ch
		if !errors.Is(it.E, rx.ErrPanicked) || !errors.Is(it.E, cause) {
			t.Fatalf("error %v: want it to wrap ErrPanicked and the panic's error", it.E)
		}
		for range ch {
		}
	})
}

// RxJS's timer(due, period) schedules item n at due + n×period; a period
// so long that n×period overflows means the next item never comes in the
// life of the program, not at once.
func TestTimerEveryHugePeriodDoesNotWrapAround(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := rx.TimerEvery(0, math.MaxInt64/2+1, nil)
		check(t, []got{{At: 0, V: 0}}, collect(t, o, 1000*time.Hour))
		o = rx.Interval(math.MaxInt64, nil)
		check(t, nil, collect(t, o, 1000*time.Hour))
	})
}
