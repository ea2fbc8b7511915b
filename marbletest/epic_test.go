package marbletest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	start = actions.Define[actions.Empty]("marbletest_test/START")
	stop  = actions.Define[actions.Empty]("marbletest_test/STOP")
	tick  = actions.Define[actions.Empty]("marbletest_test/TICK")
	query = actions.Define[string]("marbletest_test/QUERY")
	fail  = actions.Define[actions.Empty]("marbletest_test/FAIL")
)

var values = marbletest.Values{
	"a": start.New(actions.Empty{}),
	"b": stop.New(actions.Empty{}),
	"d": tick.New(actions.Empty{}),
	"x": fail.New(actions.Empty{}),
}

type epic = store.Epic[int]

func identity(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in
}

// tickUntilStop is RxJS's
// switchMap(() => interval(1000).pipe(takeUntil(action$.pipe(ofType(STOP))))).
func tickUntilStop(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	stops := rx.OfType(in, stop.Type())
	return rx.SwitchMap(rx.OfType(in, start.Type()), func(context.Context, any) rxgo.Observable {
		return rx.TakeUntil(rx.Interval(time.Second, func(int) any { return tick.New(actions.Empty{}) }), stops)
	})
}

// fakeTB records failures so that failure messages can be checked.
type fakeTB struct{ msgs []string }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

// failures runs f with assertion failures sent to a fake TB.
func failures(t *testing.T, frame time.Duration, f func(m *marbletest.M)) []string {
	t.Helper()
	var tb fakeTB
	marbletest.RunFrame(t, frame, func(m *marbletest.M) {
		m.SetTB(&tb)
		f(m)
	})
	return tb.msgs
}

func TestHotSourceSeenFromSubscription(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		src := m.Hot("--a-^-b-d-|", values)
		ctx, cancel := context.WithCancel(m.Context())
		defer cancel()
		ch := src.Observable().Observe(rxgo.WithContext(ctx))
		var got []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for it := range ch {
				got = append(got, fmt.Sprintf("%v@%v", it.V, m.Now()))
			}
		}()
		m.Play(src)
		<-done
		assert.Equal(t, []string{"marbletest_test/STOP@2ms", "marbletest_test/TICK@4ms"}, got)
		src.ExpectSubscriptions("^-----!") // ends in the frame of |
	})
	// The same through an epic: RxJS's reference result.
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "--a-^-b-d-|", Values: values, Expected: "--b-d-|"})
	})
}

func TestSwitchMapIntervalCutByStop(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[int]{
			Input:    "a 3500ms b",
			Values:   values,
			Expected: "1000ms d 999ms d 999ms d",
			For:      5 * time.Second, // and nothing after the stop
		})
	})
}

func TestSwitchMapRestartsOnEachStart(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[int]{
			Input:    "a 1499ms a 2500ms b", // the second START, at 1.5 s, restarts the clock
			Values:   values,
			Expected: "1000ms d 1499ms d 999ms d",
			For:      5 * time.Second,
		})
	})
}

func TestHeartbeatScaleFrames(t *testing.T) {
	marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[int]{
			Input:    "a 2500ms b", // stop at 3.5 s, between ticks
			Values:   values,
			Expected: "-ddd",
			For:      time.Hour,
		})
	})
}

// debounce emits a query 300 ms after typing pauses: rxgo's Debounce, in
// virtual time.
func debounce(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.Debounce(rxgo.WithDuration(300*time.Millisecond), rxgo.WithContext(ctx))
}

func TestDebounce(t *testing.T) {
	v := marbletest.Values{"h": query.New("h"), "e": query.New("he"), "y": query.New("hey"), "w": query.New("w")}
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, debounce, marbletest.EpicCase[int]{
			Input:    "h 100ms e 100ms y 500ms w",
			Values:   v,
			Expected: "502ms y 500ms w",
		})
	})
}

var errBoom = errors.New("boom")

// failing errors on FAIL, after echoing what came before.
func failing(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.Map(func(_ context.Context, v any) (any, error) {
		if fail.Is(v.(actions.Action)) {
			return nil, errBoom
		}
		return v, nil
	}, rxgo.WithContext(ctx))
}

func TestErrorMarble(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, failing, marbletest.EpicCase[int]{Input: "-a-x-b", Values: values, Expected: "-a-#", Error: errBoom})
	})
	marbletest.Run(t, func(m *marbletest.M) { // # in the input, passed through
		errInput := errors.New("input failed")
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "-a-#", InputError: errInput, Values: values, Expected: "-a-#", Error: errInput})
	})
}

func TestErrorMismatchIsReported(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, failing, marbletest.EpicCase[int]{Input: "-a-x-b", Values: values, Expected: "-a-#", Error: errors.New("other")})
	})
	if assert.Len(t, msgs, 1) {
		assert.Contains(t, msgs[0], "at 3ms: want #, got #")
		assert.Contains(t, msgs[0], "error: want other, got boom")
	}
}

// switchToCold answers each START with a fresh cold source.
func switchToCold(c *marbletest.Cold) epic {
	return func(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		return rx.SwitchMap(in, func(context.Context, any) rxgo.Observable { return c.Observable() })
	}
}

func TestColdSubscriptionsOfASwitchMap(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		inner := m.Cold("---d|", values)
		marbletest.ExpectEpic(m, switchToCold(inner), marbletest.EpicCase[int]{Input: "a-a", Values: values, Expected: "-----d"})
		// The first inner is cut by the second START; the second completes.
		inner.ExpectSubscriptions("^-!", "--^---!")
	})
}

func TestUnsubscribingFromTheOutput(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{
			Input:        "-a-b-d-a-b",
			Values:       values,
			Subscription: "--^--!",
			Expected:     "---b", // d comes in the frame of '!', after it (RxJS's answer)
		})
	})
}

func TestSubscriptionMismatchIsReported(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		inner := m.Cold("---d|", values)
		marbletest.ExpectEpic(m, switchToCold(inner), marbletest.EpicCase[int]{Input: "a-a", Values: values, Expected: "-----d"})
		inner.ExpectSubscriptions("^--!", "--^---!")
	})
	if assert.Len(t, msgs, 1) {
		assert.Equal(t, "marbletest: subscriptions of cold \"---d|\" differ\nwant: ^--!\n      --^---!\ngot:  ^-!\n      --^---!", msgs[0])
	}
}

func TestFailureShowsBothTimelinesAndADiff(t *testing.T) {
	v := marbletest.Values{"a": query.New("x"), "b": query.New("y")}
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "-a--a", Values: v, Expected: "-a--b"})
	})
	if assert.Len(t, msgs, 1) {
		msg := msgs[0]
		for _, want := range []string{
			"marbletest: epic output differs (frame 1ms; values in one frame compared as a multiset)\n",
			"\nwant: -a--b\ngot:  -a--a\n",
			"at 4ms: want b, got a",
			`-`, `"y"`, `+`, `"x"`,
		} {
			assert.Contains(t, msg, want)
		}
	}
}

func TestFailureNamesValuesNotInTheMap(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[int]{Input: "a 1500ms b", Values: marbletest.Values{"a": values["a"], "b": values["b"]}, Expected: ""})
	})
	if assert.Len(t, msgs, 1) {
		assert.Contains(t, msgs[0], "want: \ngot:  1s ?")
		assert.Contains(t, msgs[0], "values not in the values map (shown as ?):\n  at 1s: marbletest_test/TICK")
	}
}

func TestBadMarblesAreErrorsNotPanics(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "a(b", Values: values, Expected: "a"})
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: "a-z"})
		m.Cold("-^a", values)
		m.Hot("a-!", values)
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: "a", Subscription: "a"})
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: "a", Subscription: "-! 1ms ^"})
		m.Cold("a", values).ExpectSubscriptions("^ 2s a")
		marbletest.ExpectEpic[int](m, nil, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: "a"})
	})
	assert.Equal(t, []string{
		`marbletest: bad marble at 1 in "a(b": unclosed group`,
		`marbletest: value "z" of "a-z" is not in the values map`,
		`marbletest: bad marble at 1 in "-^a": '^' has no place in a cold source`,
		`marbletest: bad marble at 2 in "a-!": '!' belongs in a subscription marble, not in a hot source`,
		`marbletest: bad marble at 0 in "a": a subscription marble has only '^', '!', '-', groups and time progressions`,
		`marbletest: bad marble at 1 in "-! 1ms ^": '!' before '^'`,
		`marbletest: bad marble at 5 in "^ 2s a": a subscription marble has only '^', '!', '-', groups and time progressions`,
		`marbletest: nil epic`,
	}, msgs)
}

func TestSameFrameIsAMultiset(t *testing.T) {
	// Two independent timers due at the same instant wake in either order;
	// the comparison must not depend on it (-count=200 runs it often).
	twoTimers := func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		return rxgo.Merge([]rxgo.Observable{rx.Timer(5*ms, values["a"]), rx.Timer(5*ms, values["b"])}, rxgo.WithContext(ctx))
	}
	for _, want := range []string{"-----(ab|)", "-----(ba|)"} {
		marbletest.Run(t, func(m *marbletest.M) {
			marbletest.ExpectEpic(m, twoTimers, marbletest.EpicCase[int]{Input: "", Values: values, Expected: want})
		})
	}
}

// twice answers each START with START then STOP, one after the other.
func twice(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.FlatMap(func(rxgo.Item) rxgo.Observable {
		return rxgo.Just(values["a"], values["b"])()
	}, rxgo.WithContext(ctx))
}

func TestOrderedFramesCompareInOrder(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, twice, marbletest.EpicCase[int]{Input: "-a", Values: values, Expected: "-(ab)", Ordered: true})
	})
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, twice, marbletest.EpicCase[int]{Input: "-a", Values: values, Expected: "-(ba)", Ordered: true})
	})
	if assert.Len(t, msgs, 1) {
		assert.Contains(t, msgs[0], "values in one frame compared in order")
		assert.Contains(t, msgs[0], "want: -(ba)\ngot:  -(ab)")
	}
}

// stopCutsATimer starts a 5 ms timer on START that a STOP cancels.
func stopCutsATimer(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	stops := rx.OfType(in, stop.Type())
	return rx.SwitchMap(rx.OfType(in, start.Type()), func(context.Context, any) rxgo.Observable {
		return rx.TakeUntil(rx.Timer(5*ms, values["d"]), stops)
	})
}

func TestTimersDueInAFrameFireBeforeItsInputs(t *testing.T) {
	// The timer and the STOP are both at 5 ms: the timer wins, every time.
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, stopCutsATimer, marbletest.EpicCase[int]{Input: "a----b", Values: values, Expected: "-----d"})
	})
	// One frame earlier, the STOP cuts it.
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, stopCutsATimer, marbletest.EpicCase[int]{Input: "a---b", Values: values, Expected: ""})
	})
}

func TestLateSubscriberToAnEndedHotSourceSeesTheEnd(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		src := m.Hot("-a-|", values)
		m.Play(src)
		n := 0
		for range src.Observable().Observe(rxgo.WithContext(m.Context())) {
			n++
		}
		assert.Equal(t, 0, n)
		src.ExpectSubscriptions("---(^!)")
		assert.Equal(t, []string{"---(^!)"}, src.Subscriptions())
	})
}

func TestLeakingEpicIsReported(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		release := make(chan struct{}) // a bubble channel: waiting on it is durable
		defer close(release)
		leaky := func(context.Context, rxgo.Observable, store.StateStream[int]) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(context.Context, chan<- rxgo.Item) { <-release }})
		}
		marbletest.ExpectEpic(m, leaky, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: ""})
	})
	if assert.Len(t, msgs, 1) {
		assert.True(t, strings.HasPrefix(msgs[0], "marbletest: the epic's output did not end"), msgs[0])
	}
}

// The answers below are RxJS 7.8.2's for expectObservable(hot('-a-b-c|'),
// sub), with d for c (rx/testdata/rxjs/golden.json).
func TestSubscriptionMarblesAsInRxJS(t *testing.T) {
	for _, tt := range []struct{ sub, want string }{
		{"---!", "-a"},        // no '^': subscribed at 0, unsubscribed at 3
		{"---", "-a-b-d|"},    // dashes only: subscribed all along
		{"---^", "---b-d|"},   // subscribed before b, in the same frame
		{"---^--!", "---b-d"}, // unsubscribed before |, in the same frame
		{"(-^)-!", "-a-b"},    // in a group, '-' takes a frame too
		{"- 2ms ^ 1ms !", "---b"},
	} {
		marbletest.Run(t, func(m *marbletest.M) {
			marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "-a-b-d|", Values: values, Subscription: tt.sub, Expected: tt.want})
		})
	}
}

func TestUnsubscriptionComesBeforeTheFramesTimers(t *testing.T) {
	timer := func(context.Context, rxgo.Observable, store.StateStream[int]) rxgo.Observable {
		return rx.Timer(3*ms, values["d"])
	}
	marbletest.Run(t, func(m *marbletest.M) { // RxJS: expectObservable(timer(3), '^--!') sees nothing
		marbletest.ExpectEpic(m, timer, marbletest.EpicCase[int]{Values: values, Subscription: "^--!", Expected: ""})
	})
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, timer, marbletest.EpicCase[int]{Values: values, Subscription: "^---!", Expected: "---(d|)"})
	})
}

func TestExpectSubscriptionsWithoutCaretMeansNone(t *testing.T) {
	// As RxJS's expectSubscriptions, which drops a marble without '^'.
	marbletest.Run(t, func(m *marbletest.M) {
		never := m.Cold("-a-b", values)
		never.ExpectSubscriptions("---")
		never.ExpectSubscriptions("-", "---!")
		never.ExpectSubscriptions()
	})
	msgs := failures(t, ms, func(m *marbletest.M) {
		src := m.Cold("-a-b", values)
		echo := func(context.Context, rxgo.Observable, store.StateStream[int]) rxgo.Observable {
			return src.Observable()
		}
		marbletest.ExpectEpic(m, echo, marbletest.EpicCase[int]{Values: values, Subscription: "^--!", Expected: "-a"})
		src.ExpectSubscriptions("^--!", "---!") // passes: ---! is no subscription
		src.ExpectSubscriptions("---!")         // fails: one subscription, none expected
	})
	if assert.Len(t, msgs, 1) {
		assert.Equal(t, "marbletest: subscriptions of cold \"-a-b\" differ\nwant: ---!\ngot:  ^--!", msgs[0])
	}
}

func TestSubscriptionsCutByTheTestsEndLast(t *testing.T) {
	// RxJS: cold('-a-b') mirrored to the end of the test is subscribed "^".
	marbletest.Run(t, func(m *marbletest.M) {
		src := m.Cold("-a-b", values)
		echo := func(context.Context, rxgo.Observable, store.StateStream[int]) rxgo.Observable {
			return src.Observable()
		}
		marbletest.ExpectEpic(m, echo, marbletest.EpicCase[int]{Values: values, Expected: "-a-b"})
		src.ExpectSubscriptions("^")
	})
}
