// Package rx holds the operators that rxgo v2 lacks or gets wrong for
// epics, with RxJS 7's semantics, written so that they never leak:
//
//	sources    Timer, TimerEvery (RxJS's timer(due, period)), Interval
//	filtering  OfType (actions), DistinctUntilChanged, Take, TakeUntil
//	           (on another observable), DebounceTime
//	combining  SwitchMap, SwitchMapBy (groupBy, then switchMap per
//	           group), Merge
//
// Every operator returns a cold Observable: nothing runs until Observe,
// and everything it started ends when the context given to Observe
// (rxgo.WithContext) ends, when the output completes, or when it fails.
// Always observe with a context you cancel: a subscriber that stops
// reading without cancelling leaves the producer waiting to send.
//
// Bad input is an error item, never a panic: a nil source or notifier
// makes the output fail with ErrNilObservable, a nil key or project
// ErrNilFunction, and a function given to an operator that panics (a
// project, a key, an eq, an item function) makes it fail with an error
// wrapping ErrPanicked, as RxJS sends what such a function throws to the
// subscriber. (A panic inside an Observable a project returned runs on
// that Observable's goroutine and is beyond an operator's reach.) Huge
// durations saturate: TimerEvery's schedule never wraps around.
//
// They read time from the time package only, so inside a testing/synctest
// bubble they run in virtual time (see package marbletest).
//
// rxgo's own pitfalls these replace: Interval starts at creation and leaks
// without a cancelled context; Timer completes without an item; Take
// completes only at item n+1 and does not cancel its upstream; Debounce
// drops the item still waiting when its source completes; Merge subscribes
// when it is built and blocks forever once nobody reads; TakeUntil takes a
// predicate, not a notifier; there is no switchMap and no groupBy that
// ends with its subscriber.
//
// # Usage
//
// RxJS's switchMap(() => interval(1000).pipe(takeUntil(action$.pipe(ofType(STOP))))):
//
//	func ticker(ctx context.Context, in rxgo.Observable, _ store.StateStream[S]) rxgo.Observable {
//		stops := rx.OfType(in, stop.Type())
//		return rx.SwitchMap(rx.OfType(in, start.Type()), func(ctx context.Context, _ any) rxgo.Observable {
//			ticks := rx.Interval(time.Second, func(int) any { return tick.New(actions.Empty{}) })
//			return rx.TakeUntil(ticks, stops)
//		})
//	}
//
// A heartbeat per bot, as HAWechaty's: after a minute without a message
// from a bot, a ding to it, then one every 20 s until its dong; each new
// message of the bot starts its minute again:
//
//	rx.SwitchMapBy(messages, botOf, func(_ context.Context, m any) rxgo.Observable {
//		dings := rx.TimerEvery(time.Minute, 20*time.Second, func(int) any { return ding.New(botOf(m)) })
//		return rx.TakeUntil(dings, dongsOf(in, botOf(m)))
//	})
//
// # Differences from RxJS
//
// The operators are tested against RxJS 7.8.2's answers
// (testdata/rxjs/golden.json, written by testdata/rxjs/reference.mjs;
// make integration-rxjs checks it). Where they answer otherwise:
//
//   - Go has no synchronous emission. RxJS's takeUntil(of(x)) never
//     subscribes to its source, because of(x) notifies while it is being
//     subscribed. TakeUntil subscribes the notifier first too, and skips
//     the source when the notifier's item is already waiting on its
//     channel (rxgo.FromChannel over a channel that holds it); a notifier
//     whose goroutine has yet to produce its first item (rxgo.Just(x)(),
//     a state stream) cannot be told from one that notifies later, so
//     the source may be subscribed and cut at once. To keep a source from
//     being subscribed on a condition known now, test it before building
//     the pipeline (state.Value(), for instance).
//   - Items of independent goroutines due at the same instant come in
//     either order; RxJS orders them by when they were scheduled. (In a
//     marble test, the code under test's timers of a frame come before
//     that frame's inputs: see package marbletest.)
//   - DistinctUntilChanged with a nil eq compares with reflect.DeepEqual,
//     where RxJS's === compares references: Go values have none.
//   - TimerEvery with a period of zero or less emits once and completes,
//     and Interval with one emits nothing, where RxJS's timer(due, 0) and
//     interval(0) emit without end at one instant (RxJS's timer completes
//     after one item only for a negative or missing period).
//   - SwitchMapBy forgets a key once its inner Observable has completed,
//     where RxJS's groupBy keeps the group until the source ends. Nothing
//     shows it from outside: the next item of the key starts a new inner
//     Observable either way.
package rx
