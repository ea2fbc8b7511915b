// Package marbletest tests epics and stores with marble diagrams, in
// virtual time: a test of a 60-second heartbeat takes microseconds and
// never flakes. It runs inside testing/synctest (Go 1.25+), so the code
// under test uses the time package, and rxgo's Interval, Timer and
// Debounce, unchanged: no clock is injected.
//
// # Syntax
//
// The RxJS marble syntax, one character per frame (1 ms by default, any
// duration with RunFrame):
//
//	marble   meaning
//	-        one frame passes
//	a        a value from the values map (a letter or a digit), one frame
//	|        the stream completes
//	#        the stream fails (with ErrSource, or WithError's error)
//	(ab)     a and b in the same frame; the group takes up its characters'
//	         frames: "(ab)c" puts c four frames after a
//	^        the subscription point of a hot source: time zero
//	!        unsubscription (subscription marbles); "(^!)" is both at once
//	10ms     time passes: a number and a unit (us, ms, s, m), decimals
//	         allowed, after a space or the start and before a space or the
//	         end: "a 3500ms b" puts b 3501 ms after a (a took a frame)
//	spaces   ignored otherwise
//
// Parse turns a marble into a Timeline; Timeline.String prints it back
// (parse(print(x)) == x), which is how failures show what happened. A
// malformed marble is a *SyntaxError naming the byte position, never a
// panic: "marbletest: bad marble at 3 in \"-a-(bc\": unclosed group".
//
// # Same-frame semantics
//
// Virtual time moves only when every goroutine in the bubble is blocked;
// two timers due at the same instant then wake in either order. So that
// no test passes on one run and fails on the next, the package fixes:
//
//  1. Inputs are fed one event at a time. At each instant the clock first
//     runs up to it and lets the bubble settle (synctest.Wait): timers of
//     the code under test due at that instant fire, and what they cause
//     is handled, before the inputs of that frame are delivered. (RxJS's
//     TestScheduler would deliver the input first.) Then each input of the
//     frame, in marble order, settles before the next.
//  2. What the code under test emits in one frame is compared as a
//     multiset: "(ab)" matches a then b and b then a, because the two may
//     come from independent timers. Frames are ordered; values in
//     different frames never swap.
//  3. Ordered (on EpicCase, StoreCase, StatesCase) compares each frame in
//     order instead. Use it when one cause emits several values one after
//     the other (a reducer chain, an epic answering one action with two),
//     never for values of independent timers.
//
// A test whose outcome depends on the order of two independent events in
// one frame is ill-posed: write them in different frames.
//
// In the frame of a subscription marble's '^' or '!', ExpectEpic
// subscribes to the output or unsubscribes from it before that frame's
// inputs, as RxJS does: hot "-a-b-c|" seen through "---^" is "---b-c|".
//
// # Subscription marbles
//
// EpicCase.Subscription and ExpectSubscriptions read '^', '!', '-',
// spaces, groups and time progressions, as RxJS does, including marbles
// without '^'. In EpicCase.Subscription (RxJS's expectObservable) the
// subscription then starts at time zero: "---!" is subscribed at 0 and
// unsubscribed at 3, "---" is subscribed for the whole test. In
// ExpectSubscriptions (RxJS's expectSubscriptions) a marble without '^'
// stands for no subscription at all, "---!" included: "-" says the source
// was never subscribed.
//
// # Differences from RxJS
//
// The package is checked against RxJS 7.8.2's TestScheduler: its answers
// are in rx/testdata/rxjs/golden.json, rx/rxjs_test.go compares with
// them, and make integration-rxjs checks they are still RxJS's. Where the
// package answers otherwise, on purpose:
//
//   - Timers first (rule 1 above). RxJS delivers a frame's hot values
//     before the timers of the code under test due in that frame, so that
//     debounceTime(3) of "a--b" is "------b" there and "---a--b" here, and
//     takeUntil(timer(3)) of hot "---b" is "---(b|)" there and "---|" here.
//     Here the code under test runs in goroutines on the real time
//     package: a frame's timers can only be let fire, and their effects
//     settle, before an input is delivered, or the two race.
//   - In the frame of '!', the code under test's timers of that frame
//     still fire (after the same rule); what they emit is not seen, as in
//     RxJS, but what else they do (subscribing to a source, say) happens.
//   - One frame compares as a multiset (rule 2), since independent timers
//     of one instant wake in either order; RxJS orders them.
//   - '^' in a hot marble is at its time. RxJS subtracts its character
//     index instead, which differs when a time progression, a space or a
//     group comes before it: "a 10ms ^ b" puts b 5 frames after '^' in
//     RxJS and 1 frame after here.
//   - A time progression ends at a space or at the end of the marble
//     ("a 10ms" is a, then 10 ms), and "us" is a unit. RxJS needs the
//     space and reads "a 10ms" as the values a, 1, 0, m and s.
//   - Nothing follows '|' or '#': "a|b" is an error. RxJS takes it.
//   - In a subscription marble, '!' before '^' is an error. RxJS reads
//     "!^" as subscribed and unsubscribed at frame 0.
//   - A Cold source emits its frame-zero events at once, from its own
//     goroutine; RxJS schedules them. So where RxJS's takeUntil(cold("x"))
//     subscribes to its source and unsubscribes in the same frame, here
//     the source may not be subscribed at all (see rx.TakeUntil).
//
// # Usage
//
// An epic (RxJS's switchMap(() => interval(1000).pipe(takeUntil(stop$))))
// and its test, with frames of one second:
//
//	func beats(_ context.Context, in rxgo.Observable, _ store.StateStream[S]) rxgo.Observable {
//		halts := rx.OfType(in, halt.Type())
//		return rx.SwitchMap(rx.OfType(in, goAction.Type()), func(context.Context, any) rxgo.Observable {
//			return rx.TakeUntil(rx.Interval(time.Second, func(int) any { return beat.New(actions.Empty{}) }), halts)
//		})
//	}
//
//	func TestBeats(t *testing.T) {
//		marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
//			marbletest.ExpectEpic(m, beats, marbletest.EpicCase[S]{
//				Input:    "g 2500ms h", // GO at 0, HALT at 3.5 s
//				Values:   marbletest.Values{"g": goA, "h": haltA, "b": beatA},
//				Expected: "-bbb",       // a BEAT at 1, 2 and 3 s
//				For:      time.Minute,  // and none in the minute after
//			})
//		})
//	}
//
// On a mismatch the failure shows both timelines, one above the other,
// then each differing frame with a go-cmp diff of the values:
//
//	marbletest: epic output differs (frame 1ms; values in one frame compared as a multiset)
//	want: -a--b
//	got:  -a--a
//	at 4ms: want b, got a
//	  b (-want +got):
//	    actions.Action{ Type: "QUERY", - Payload: "y", + Payload: "x" … }
//
// A whole store: ExpectStore dispatches on a timeline and compares every
// action the store reduced (epics' included); ExpectStates then checks the
// states it went through:
//
//	steps := marbletest.ExpectStore(m, st, marbletest.StoreCase{
//		Dispatch: "p---q", Values: v, Expected: "p---qP---Q",
//	})
//	marbletest.ExpectStates(m, steps, marbletest.StatesCase[int]{
//		Expected: "0---01---2", States: map[string]int{"0": 0, "1": 1, "2": 2},
//	})
//
// Sources for hand-built pipelines: M.Hot and M.Cold make rxgo
// Observables from marbles; M.Play runs hot sources on the clock; their
// ExpectSubscriptions checks when they were subscribed, as RxJS's
// expectSubscriptions: inner.ExpectSubscriptions("^-!", "--^---!").
//
// The assertions report through TB (M.SetTB), so their failure messages
// are themselves tested. Everything the code under test starts must end
// when its context does: the epic's output must close after the test
// cancels it, and synctest fails a test that leaves goroutines behind.
package marbletest
