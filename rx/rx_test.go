package rx_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/reactivex/rxgo/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// got is one item seen by collect: when, and what.
type got struct {
	At  time.Duration
	V   any
	Err string
	End bool // the output completed
}

// collect observes o inside a bubble for d of virtual time, then cancels
// its context and waits for the output to close.
func collect(t *testing.T, o rxgo.Observable, d time.Duration) []got {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := o.Observe(rxgo.WithContext(ctx))
	var out []got
	done := make(chan struct{})
	go func() {
		defer close(done)
		failed := false
		for it := range ch {
			g := got{At: time.Since(start), V: it.V}
			if it.E != nil {
				g.Err, failed = it.E.Error(), true
			}
			out = append(out, g)
		}
		if ctx.Err() == nil && !failed {
			out = append(out, got{At: time.Since(start), End: true})
		}
	}()
	time.Sleep(d)
	synctest.Wait()
	cancel()
	<-done
	return out
}

// at emits each value at its time after subscription, then completes.
func at(items ...any) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		start := time.Now()
		for i := 0; i+1 < len(items); i += 2 {
			timer := time.NewTimer(time.Until(start.Add(items[i].(time.Duration))))
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return
			}
			it := rxgo.Of(items[i+1])
			if err, ok := items[i+1].(error); ok {
				it = rxgo.Error(err)
			}
			select {
			case next <- it:
			case <-ctx.Done():
				return
			}
		}
	}})
}

const (
	s    = time.Second
	zero = time.Duration(0)
)

func check(t *testing.T, want, have []got) {
	t.Helper()
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("items differ (-want +got):\n%s", d)
	}
}

func TestTimerEmitsItsValueThenCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check(t, []got{{At: 3 * s, V: "x"}, {At: 3 * s, End: true}}, collect(t, rx.Timer(3*s, "x"), 10*s))
	})
}

func TestTimerCancelledEmitsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check(t, nil, collect(t, rx.Timer(3*s, "x"), 2*s))
	})
}

func TestIntervalTicksUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check(t, []got{{At: s, V: 0}, {At: 2 * s, V: 1}, {At: 3 * s, V: 2}}, collect(t, rx.Interval(s, nil), 3500*time.Millisecond))
	})
}

func TestIntervalMapsCountsAndStartsPerSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		iv := rx.Interval(2*s, func(n int) any { return n * 10 })
		time.Sleep(5 * s) // a cold interval: nothing runs before Observe
		check(t, []got{{At: 2 * s, V: 0}, {At: 4 * s, V: 10}}, collect(t, iv, 5*s))
	})
}

func TestIntervalDoesNotDriftWithASlowReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch := rx.Interval(s, nil).Observe(rxgo.WithContext(ctx))
		<-ch
		time.Sleep(1500 * time.Millisecond) // reader is late for tick 1
		<-ch                                // tick 1, handed over at 2.5 s
		<-ch                                // tick 2, due at 3 s
		if d := time.Since(start); d != 3*s {
			t.Errorf("third tick at %v, want 3s", d)
		}
	})
}

func TestIntervalWithoutPeriodEmitsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check(t, nil, collect(t, rx.Interval(0, nil), 10*s))
	})
}

func TestTakeUntilStopsAtTheFirstNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := rx.TakeUntil(rx.Interval(s, nil), at(3500*time.Millisecond, "stop", 5*s, "again"))
		check(t, []got{{At: s, V: 0}, {At: 2 * s, V: 1}, {At: 3 * s, V: 2}, {At: 3500 * time.Millisecond, End: true}}, collect(t, o, 10*s))
	})
}

func TestTakeUntilIgnoresANotifierThatCompletesEmpty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := rx.TakeUntil(at(s, "a", 3*s, "b"), at())
		check(t, []got{{At: s, V: "a"}, {At: 3 * s, V: "b"}, {At: 3 * s, End: true}}, collect(t, o, 10*s))
	})
}

func TestTakeUntilPassesErrorsOn(t *testing.T) {
	boom := errors.New("boom")
	synctest.Test(t, func(t *testing.T) {
		check(t, []got{{At: s, V: "a"}, {At: 2 * s, Err: "boom"}}, collect(t, rx.TakeUntil(at(s, "a", 3*s, "b"), at(2*s, boom)), 10*s))
		check(t, []got{{At: s, Err: "boom"}}, collect(t, rx.TakeUntil(at(s, boom, 3*s, "b"), at(2*s, "stop")), 10*s))
	})
}

func TestTakeUntilNotificationWinsASameInstantItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Both are ready when TakeUntil looks: the notification wins.
		stop := make(chan rxgo.Item, 1)
		items := make(chan rxgo.Item, 1)
		stop <- rxgo.Of("stop")
		items <- rxgo.Of("late")
		o := rx.TakeUntil(rxgo.FromChannel(items), rxgo.FromChannel(stop))
		check(t, []got{{At: 0, End: true}}, collect(t, o, s))
		close(stop)
		close(items)
	})
}

func TestSwitchMapFollowsTheLatestInner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := rx.SwitchMap(at(zero, "x", 1500*time.Millisecond, "y"), func(_ context.Context, v any) rxgo.Observable {
			return rx.Interval(s, func(n int) any { return v.(string) + string(rune('0'+n)) })
		})
		check(t, []got{{At: s, V: "x0"}, {At: 2500 * time.Millisecond, V: "y0"}, {At: 3500 * time.Millisecond, V: "y1"}}, collect(t, o, 4*s))
	})
}

func TestSwitchMapCompletesAfterOuterAndLastInner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := rx.SwitchMap(at(zero, "x", s, "y"), func(_ context.Context, v any) rxgo.Observable {
			return rx.Timer(2*s, v)
		})
		// x's timer is cut by y at 1 s; y's fires at 3 s, then all is done.
		check(t, []got{{At: 3 * s, V: "y"}, {At: 3 * s, End: true}}, collect(t, o, 10*s))
	})
}

func TestSwitchMapCancelsTheInnerContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ctxs []context.Context
		o := rx.SwitchMap(at(zero, "x", s, "y"), func(ctx context.Context, v any) rxgo.Observable {
			ctxs = append(ctxs, ctx)
			return rx.Timer(10*s, v)
		})
		collect(t, o, 2*s)
		if len(ctxs) != 2 {
			t.Fatalf("project called %d times, want 2", len(ctxs))
		}
		for i, c := range ctxs {
			if c.Err() == nil {
				t.Errorf("inner %d: context still live after the output ended", i)
			}
		}
	})
}

func TestSwitchMapErrors(t *testing.T) {
	boom := errors.New("boom")
	synctest.Test(t, func(t *testing.T) {
		fromOuter := rx.SwitchMap(at(zero, "x", s, boom), func(_ context.Context, v any) rxgo.Observable { return rx.Interval(300*time.Millisecond, nil) })
		check(t, []got{{At: 300 * time.Millisecond, V: 0}, {At: 600 * time.Millisecond, V: 1}, {At: 900 * time.Millisecond, V: 2}, {At: s, Err: "boom"}}, collect(t, fromOuter, 5*s))

		fromInner := rx.SwitchMap(at(zero, "x"), func(_ context.Context, v any) rxgo.Observable { return at(2*s, boom, 3*s, "never") })
		check(t, []got{{At: 2 * s, Err: "boom"}}, collect(t, fromInner, 5*s))

		nilInner := rx.SwitchMap(at(s, "x"), func(context.Context, any) rxgo.Observable { return nil })
		check(t, []got{{At: s, Err: rx.ErrNilObservable.Error()}}, collect(t, nilInner, 5*s))
	})
}

var (
	ping = actions.Define[int]("rx_test/PING")
	pong = actions.Define[int]("rx_test/PONG")
)

func TestOfTypeKeepsOnlyThoseTypes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := at(s, ping.New(1), 2*s, pong.New(2), 3*s, "not an action", 4*s, ping.New(3))
		check(t, []got{{At: s, V: ping.New(1)}, {At: 4 * s, V: ping.New(3)}, {At: 4 * s, End: true}}, collect(t, rx.OfType(src, ping.Type()), 10*s))
		boom := errors.New("boom")
		check(t, []got{{At: s, Err: "boom"}}, collect(t, rx.OfType(at(s, boom), ping.Type()), 10*s))
	})
}

// counted is a source that counts its subscriptions and says when the
// last one ended: ticks every second until cancelled.
type counted struct {
	subscribed int
	ended      time.Duration
	start      time.Time
}

func (c *counted) observable() rxgo.Observable {
	c.start = time.Now()
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		c.subscribed++
		defer func() { c.ended = time.Since(c.start) }()
		for n := 0; ; n++ {
			t := time.NewTimer(s)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			select {
			case next <- rxgo.Of(n):
			case <-ctx.Done():
				return
			}
		}
	}})
}

func TestTakeCompletesAtTheNthItemAndCancelsItsSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var src counted
		check(t, []got{{At: s, V: 0}, {At: 2 * s, V: 1}, {At: 2 * s, End: true}}, collect(t, rx.Take(src.observable(), 2), 10*s))
		if src.ended != 2*s {
			t.Errorf("source cancelled at %v, want 2s", src.ended)
		}
		var never counted
		check(t, []got{{At: 0, End: true}}, collect(t, rx.Take(never.observable(), 0), 10*s))
		if never.subscribed != 0 {
			t.Errorf("Take(0) subscribed to its source %d times", never.subscribed)
		}
	})
}

func TestTakeUntilSkipsTheSourceWhenTheNotifierHasNotified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan rxgo.Item, 1)
		ch <- rxgo.Of("stop")
		close(ch)
		var src counted
		check(t, []got{{At: 0, End: true}}, collect(t, rx.TakeUntil(src.observable(), rxgo.FromChannel(ch)), 10*s))
		if src.subscribed != 0 {
			t.Errorf("source subscribed %d times, want 0 (RxJS's takeUntil(of(x)))", src.subscribed)
		}
		// A notifier that completes at once without an item cuts nothing.
		check(t, []got{{At: s, V: "a"}, {At: s, End: true}}, collect(t, rx.TakeUntil(at(s, "a"), rxgo.Empty()), 10*s))
	})
}

func TestDebounceTimeEmitsTheLatestAfterSilenceAndOnCompletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		// b replaces a; c is still waiting when the source completes.
		o := rx.DebounceTime(at(zero, "a", 500*ms, "b", 3*s, "c"), s)
		check(t, []got{{At: 1500 * ms, V: "b"}, {At: 3 * s, V: "c"}, {At: 3 * s, End: true}}, collect(t, o, 10*s))
		// Cancelled while an item waits: nothing, and nothing left running.
		check(t, nil, collect(t, rx.DebounceTime(rx.Interval(500*ms, nil), s), 10*s))
		boom := errors.New("boom")
		check(t, []got{{At: 500 * ms, Err: "boom"}}, collect(t, rx.DebounceTime(at(zero, "a", 500*ms, boom), s), 10*s))
	})
}

func TestTimerEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check(t, []got{{At: 0, V: 0}, {At: s, V: 1}, {At: 2 * s, V: 2}}, collect(t, rx.TimerEvery(0, s, nil), 2500*time.Millisecond))
		check(t, []got{{At: 2 * s, V: "x"}, {At: 2 * s, End: true}}, collect(t, rx.TimerEvery(2*s, 0, func(int) any { return "x" }), 10*s))
	})
}

func TestDistinctUntilChangedComparesAnyValueWithoutPanicking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// == would panic on slices.
		o := rx.DistinctUntilChanged(at(zero, []int{1}, s, []int{1}, 2*s, []int{2}), nil)
		check(t, []got{{At: 0, V: []int{1}}, {At: 2 * s, V: []int{2}}, {At: 2 * s, End: true}}, collect(t, o, 10*s))
	})
}

func TestMergeIsColdAndAnErrorCancelsTheOthers(t *testing.T) {
	boom := errors.New("boom")
	synctest.Test(t, func(t *testing.T) {
		var ticks counted
		m := rx.Merge(ticks.observable(), at(2500*time.Millisecond, boom))
		time.Sleep(5 * s)
		if ticks.subscribed != 0 {
			t.Fatalf("Merge subscribed before it was observed")
		}
		check(t, []got{{At: s, V: 0}, {At: 2 * s, V: 1}, {At: 2500 * time.Millisecond, Err: "boom"}}, collect(t, m, 10*s))
		if ticks.ended != 7500*time.Millisecond { // 5 s before Observe, 2.5 s after
			t.Errorf("the other source was cancelled at %v, want 7.5s", ticks.ended)
		}
		check(t, []got{{At: 0, Err: rx.ErrNilObservable.Error()}}, collect(t, rx.Merge(at(s, "a"), nil), 10*s))
		check(t, []got{{At: 0, End: true}}, collect(t, rx.Merge(), 10*s))
	})
}

func TestSwitchMapByRunsKeysSideBySide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ctxs []context.Context
		// x1 and y1 run side by side; x2 switches x1 off, not y1.
		src := at(zero, "x1", 500*time.Millisecond, "y1", 900*time.Millisecond, "x2")
		o := rx.SwitchMapBy(src, func(v any) string { return v.(string)[:1] }, func(ctx context.Context, v any) rxgo.Observable {
			ctxs = append(ctxs, ctx)
			return rx.Interval(s, func(n int) any { return v.(string) + string(rune('a'+n)) })
		})
		check(t, []got{{At: 1500 * time.Millisecond, V: "y1a"}, {At: 1900 * time.Millisecond, V: "x2a"}, {At: 2500 * time.Millisecond, V: "y1b"}}, collect(t, o, 2600*time.Millisecond))
		for i, c := range ctxs {
			if c.Err() == nil {
				t.Errorf("inner %d: context still live after the output ended", i)
			}
		}
		nilInner := rx.SwitchMapBy(at(s, "x"), func(any) int { return 0 }, func(context.Context, any) rxgo.Observable { return nil })
		check(t, []got{{At: s, Err: rx.ErrNilObservable.Error()}}, collect(t, nilInner, 5*s))
	})
}
