package marbletest

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// TB is the part of testing.TB the assertions use, so that their failure
// messages can themselves be tested with a fake.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Values maps marble characters to actions.
type Values map[string]actions.Action

// M drives marble tests inside a testing/synctest bubble: every timer in
// the code under test (rxgo's Interval, Timer, Debounce; time.After;
// time.Now) runs in virtual time. Time zero is when Run calls f.
type M struct {
	t     TB
	frame time.Duration
	start time.Time
	ctx   context.Context
	// ending is set while ExpectEpic cancels the code under test at the
	// end of its run: the sources' subscriptions that end then were cut
	// by the test, and last as far as ExpectSubscriptions is concerned.
	ending atomic.Bool
}

// Run runs f in a synctest bubble with frames of 1 ms. Use RunFrame for
// another frame duration (heartbeat tests read best with 1 s).
func Run(t *testing.T, f func(m *M)) {
	t.Helper()
	RunFrame(t, time.Millisecond, f)
}

// RunFrame runs f in a synctest bubble with frames of the given duration.
// Everything f starts must end before f returns (synctest fails the test
// otherwise); the context of M is cancelled when f returns.
func RunFrame(t *testing.T, frame time.Duration, f func(m *M)) {
	t.Helper()
	if frame <= 0 {
		t.Errorf("marbletest: frame %v must be positive", frame)
		return
	}
	if f == nil {
		t.Errorf("marbletest: nil test function")
		return
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		f(&M{t: t, frame: frame, start: time.Now(), ctx: ctx})
	})
}

// SetTB sends assertion failures to tb instead of the test: it is how the
// failure messages of this package are tested. A nil tb is ignored:
// failures keep going where they went.
func (m *M) SetTB(tb TB) {
	if tb != nil {
		m.t = tb
	}
}

// Frame returns the duration of one marble character.
func (m *M) Frame() time.Duration { return m.frame }

// Now returns the virtual time since the test began.
func (m *M) Now() time.Duration { return time.Since(m.start) }

// Context returns a context that ends when the test function returns.
func (m *M) Context() context.Context { return m.ctx }

// Parse parses a marble with the test's frame; a malformed marble fails the
// test (the error names the position) and ok is false.
func (m *M) Parse(marble string) (tl Timeline, ok bool) {
	m.t.Helper()
	tl, err := Parse(marble, m.frame)
	if err != nil {
		m.t.Errorf("%v", err)
		return Timeline{}, false
	}
	return tl, true
}

// step is something the clock does at a virtual time: hand a hot event to
// its subscribers, dispatch an action, unsubscribe.
type step struct {
	at time.Duration
	do func()
}

// play runs the steps in time order (steps of one instant in the order
// given). Before each instant it sleeps until then and lets the bubble
// settle, so the timers of the code under test that are due at that
// instant have fired and been handled first; after each step it lets the
// bubble settle again. That is the same-frame rule of the package doc.
func (m *M) play(steps []step) {
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	synctest.Wait()
	for _, s := range steps {
		if d := s.at - m.Now(); d > 0 {
			time.Sleep(d)
			synctest.Wait()
		}
		s.do()
		synctest.Wait()
	}
}

// sleepUntil lets virtual time run to at (since the test began) and the
// bubble settle.
func (m *M) sleepUntil(at time.Duration) {
	if d := at - m.Now(); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
}

// Play runs the hot sources' events on the clock, after waiting for the
// code under test to subscribe. It returns when the last event is out and
// everything in the bubble is idle.
func (m *M) Play(sources ...*Hot) {
	var steps []step
	for _, h := range sources {
		steps = append(steps, h.steps()...)
	}
	m.play(steps)
}
