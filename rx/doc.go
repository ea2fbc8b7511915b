// Package rx holds the few operators that rxgo v2 lacks or gets wrong for
// epics, written so that they never leak: SwitchMap, TakeUntil on another
// observable, a Timer that emits a value, an Interval that stops with its
// subscriber, and OfType for actions.
//
// Every operator returns a cold Observable: nothing runs until Observe,
// and everything it started ends when the context given to Observe
// (rxgo.WithContext) ends, when the output completes, or when it fails.
// Always observe with a context you cancel: a subscriber that stops
// reading without cancelling leaves the producer waiting to send.
//
// They read time from the time package only, so inside a testing/synctest
// bubble they run in virtual time (see package marbletest).
//
// rxgo's own pitfalls these replace: Interval starts at creation and leaks
// without a cancelled context; Timer completes without an item; Take does
// not cancel its upstream; TakeUntil takes a predicate, not a notifier;
// there is no switchMap.
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
package rx
