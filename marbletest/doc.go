// Package marbletest tests epics and stores with marble diagrams, in
// virtual time: a test of a 60-second heartbeat takes microseconds and
// never flakes. It runs inside testing/synctest, so the code under test
// uses the time package (and rxgo's Interval, Timer, Debounce) unchanged.
//
// # Syntax
//
// The RxJS marble syntax, one character per frame (1 ms by default, any
// duration with RunFrame):
//
//   - one frame passes
//     a        a value from the values map (a letter or digit), one frame
//     |        the stream completes
//     #        the stream fails
//     (ab)     a and b in the same frame; the group takes up 4 frames
//     ^        the subscription point of a hot source: time zero
//     !        unsubscription (in subscription marbles)
//     10ms     time passes: 10ms, 2s, 1m, 1.5s, between spaces
//     spaces   ignored otherwise
//
// # Same-frame semantics
//
// Two timers due at the same virtual instant wake in either order, so
// values emitted in one frame are compared as a multiset: "(ab)" matches a
// then b and b then a. Values in different frames are ordered. Inputs are
// fed one frame at a time and the bubble is left to settle (synctest.Wait)
// after each, so an epic has handled an input before the next one comes.
// A test whose outcome depends on the order of two events in one frame is
// written with the events in different frames.
//
// # Usage
//
//	func TestTicker(t *testing.T) {
//		marbletest.Run(t, func(m *marbletest.M) {
//			marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[State]{
//				Input:    "a 3500ms b",               // START, then STOP 3.5 s later
//				Values:   marbletest.Values{"a": start, "b": stop, "d": tick},
//				Expected: "1000ms d 999ms d 999ms d", // a tick every second until STOP
//			})
//		})
//	}
//
// ExpectStore does the same for a whole store: the actions dispatched on a
// timeline, and every action the store reduced (epics' included) compared
// with a marble. A mismatch prints both timelines, one above the other,
// and a go-cmp diff of the values that differ.
package marbletest
