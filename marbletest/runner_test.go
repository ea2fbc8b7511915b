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

// tickUntilStop is RxJS's
// switchMap(() => interval(1000).pipe(takeUntil(action$.pipe(ofType(STOP))))):
// every START (re)starts a 1 s ticker, STOP ends it.
func tickUntilStop(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(_ context.Context, next chan<- rxgo.Item) {
		items := in.Observe(rxgo.WithContext(ctx))
		var ticker *time.Ticker
		var ticks <-chan time.Time
		defer func() {
			if ticker != nil {
				ticker.Stop()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case it, ok := <-items:
				if !ok {
					return
				}
				a := it.V.(actions.Action)
				switch {
				case start.Is(a):
					if ticker != nil {
						ticker.Stop()
					}
					ticker = time.NewTicker(time.Second)
					ticks = ticker.C
				case stop.Is(a) && ticker != nil:
					ticker.Stop()
					ticker, ticks = nil, nil
				}
			case <-ticks:
				select {
				case next <- rxgo.Of(tick.New(actions.Empty{})):
				case <-ctx.Done():
					return
				}
			}
		}
	}})
}

func TestHotSourceSeenFromSubscription(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		identity := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable { return in }
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{
			Input:    "--a-^-b-d-|",
			Values:   values,
			Expected: "--b-d-|",
		})
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

func TestHeartbeatScaleFrames(t *testing.T) {
	marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, tickUntilStop, marbletest.EpicCase[int]{
			Input:    "a 2500ms b", // stop at 3.5 s, between ticks
			Values:   values,
			Expected: "-ddd",
		})
	})
}

// debounce emits a query 300 ms after typing pauses: rxgo's Debounce, in
// virtual time.
func debounce(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.Debounce(rxgo.WithDuration(300*time.Millisecond), rxgo.WithContext(ctx))
}

func TestDebounce(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		v := marbletest.Values{"h": query.New("h"), "e": query.New("he"), "y": query.New("hey"), "w": query.New("w")}
		marbletest.ExpectEpic(m, debounce, marbletest.EpicCase[int]{
			Input:    "h 100ms e 100ms y 500ms w",
			Values:   v,
			Expected: "502ms y 500ms w",
		})
	})
}

// failing errors on FAIL, after echoing what came before.
func failing(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.Map(func(_ context.Context, v any) (any, error) {
		if fail.Is(v.(actions.Action)) {
			return nil, errors.New("boom")
		}
		return v, nil
	}, rxgo.WithContext(ctx))
}

func TestErrorMarble(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, failing, marbletest.EpicCase[int]{
			Input:    "-a-x-b",
			Values:   values,
			Expected: "-a-#",
		})
	})
}

func TestSubscriptionWindow(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		src := m.Hot("-a-b-|", values)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := src.Observable().Observe(rxgo.WithContext(ctx))
		m.Play(src)
		for range ch {
		}
		src.ExpectSubscriptions("^----!") // ends in the frame of |
	})
}

// fakeTB records failures so that failure messages can be checked.
type fakeTB struct{ msgs []string }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func TestFailureShowsBothTimelinesAndADiff(t *testing.T) {
	var tb fakeTB
	marbletest.Run(t, func(m *marbletest.M) {
		m.SetTB(&tb)
		v := marbletest.Values{"a": query.New("x"), "b": query.New("y")}
		echo := func(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable { return in }
		marbletest.ExpectEpic(m, echo, marbletest.EpicCase[int]{
			Input:    "-a--a",
			Values:   v,
			Expected: "-a--b",
		})
	})
	if assert.Len(t, tb.msgs, 1) {
		msg := tb.msgs[0]
		for _, want := range []string{"want: -a--b", "got:  -a--a", "at 4ms: want b, got a", `"y"`, `"x"`} {
			assert.True(t, strings.Contains(msg, want), "message lacks %q:\n%s", want, msg)
		}
	}
}

func TestSameFrameIsAMultiset(t *testing.T) {
	// Two independent timers due at the same instant wake in either order;
	// the comparison must not depend on it. Run it many times.
	twoTimers := func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		after := func(a actions.Action) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
				select {
				case <-time.After(5 * time.Millisecond):
					next <- rxgo.Of(a)
				case <-ctx.Done():
				}
			}})
		}
		return rxgo.Merge([]rxgo.Observable{after(start.New(actions.Empty{})), after(stop.New(actions.Empty{}))}, rxgo.WithContext(ctx))
	}
	for range 20 {
		marbletest.Run(t, func(m *marbletest.M) {
			marbletest.ExpectEpic(m, twoTimers, marbletest.EpicCase[int]{Input: "", Values: values, Expected: "-----(ab|)"})
		})
	}
}

var (
	ping = actions.Define[int]("marbletest_test/PING")
	pong = actions.Define[int]("marbletest_test/PONG")
)

// pongLater answers each PING with a PONG two frames later.
func pongLater(ctx context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	return in.Filter(func(v any) bool { return ping.Is(v.(actions.Action)) }, rxgo.WithContext(ctx)).
		Map(func(ctx context.Context, v any) (any, error) {
			n, _ := ping.Match(v.(actions.Action))
			select {
			case <-time.After(2 * time.Millisecond):
			case <-ctx.Done():
			}
			return pong.New(n), nil
		}, rxgo.WithContext(ctx))
}

func TestExpectStore(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		counter := func(s int, a actions.Action) int {
			if pong.Is(a) {
				return s + 1
			}
			return s
		}
		st, err := store.New(counter, 0, store.WithEpic("pong", pongLater))
		if err != nil {
			t.Fatal(err)
		}
		v := marbletest.Values{"p": ping.New(1), "q": ping.New(2), "P": pong.New(1), "Q": pong.New(2)}
		changes := marbletest.ExpectStore(m, st, marbletest.StoreCase{
			Dispatch: "p---q",
			Values:   v,
			Expected: "p-P-q-Q",
		})
		if assert.Len(t, changes, 4) {
			assert.Equal(t, 2, changes[3].State, "the state after the last PONG")
		}
	})
}
