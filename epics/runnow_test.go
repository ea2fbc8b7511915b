package epics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	nowGo     = actions.Define[actions.Empty]("now/GO")
	nowResult = actions.Define[string]("now/RESULT")
)

// counted is a state that records the results reduced, in order.
type counted struct{ results []string }

func countResults(s counted, a actions.Action) counted {
	if r, ok := nowResult.Match(a); ok {
		s.results = append(s.results[:len(s.results):len(s.results)], r)
	}
	return s
}

// nowFx is a NowEffect made of two functions.
type nowFx struct {
	try func() (actions.Action, bool)
	run func(context.Context, func(...actions.Action))
}

func (n nowFx) Try() (actions.Action, bool)                           { return n.try() }
func (n nowFx) Run(ctx context.Context, done func(...actions.Action)) { n.run(ctx, done) }

// nowStore starts a store whose effects epic lets ask ask for effects
// on every now/GO.
func nowStore(t *testing.T, ask func(fx *epics.Effects)) *store.Store[counted] {
	t.Helper()
	h := func(a actions.Action, _ reducers.Pool, fx *epics.Effects) {
		if nowGo.Is(a) {
			ask(fx)
		}
	}
	st, err := store.New(countResults, counted{},
		store.WithEpic("effects", epics.Effect(func(counted) reducers.Pool { return reducers.Pool{} }, h)))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	t.Cleanup(func() { st.Stop() })
	return st
}

// runNowStore starts a store whose effects epic answers now/GO with
// RunNow(try, f); ran counts f's runs.
func runNowStore(t *testing.T, try func() (actions.Action, bool), ran *atomic.Int32) *store.Store[counted] {
	t.Helper()
	return nowStore(t, func(fx *epics.Effects) {
		fx.RunNow(nowFx{try, func(_ context.Context, done func(...actions.Action)) {
			ran.Add(1)
			done(nowResult.New("slow"))
		}})
	})
}

// epicFailures returns the EpicFailed actions that sub holds now.
func epicFailures[S any](sub *store.Subscription[S]) []actions.EpicFailedPayload {
	var failed []actions.EpicFailedPayload
	for len(sub.C()) > 0 {
		if p, ok := actions.EpicFailed.Match((<-sub.C()).Action); ok {
			failed = append(failed, p)
		}
	}
	return failed
}

// A try that answers is made on the dispatching goroutine: its result is
// reduced before Dispatch returns, and f never runs.
func TestRunNowAnswersOnTheDispatchingGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int32
		st := runNowStore(t, func() (actions.Action, bool) { return nowResult.New("now"), true }, &ran)
		for range 3 {
			require.NoError(t, st.Dispatch(nowGo.New(actions.Empty{})))
		}
		assert.Equal(t, []string{"now", "now", "now"}, st.State().results, "reduced before Dispatch returned")
		synctest.Wait()
		assert.Zero(t, ran.Load(), "f is not run for a try that answered")
	})
}

// A try that would have to wait leaves the effect to f, on a goroutine
// of its own.
func TestRunNowFallsBackToRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int32
		st := runNowStore(t, func() (actions.Action, bool) { return actions.Action{}, false }, &ran)
		require.NoError(t, st.Dispatch(nowGo.New(actions.Empty{})))
		synctest.Wait()
		assert.Equal(t, []string{"slow"}, st.State().results)
		assert.Equal(t, int32(1), ran.Load())
	})
}

// Outside a store the try's result comes on the epic's output.
func TestRunNowOutsideAStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h := func(a actions.Action, _ reducers.Pool, fx *epics.Effects) {
			fx.RunNow(nowFx{func() (actions.Action, bool) { return nowResult.New("now"), true },
				func(context.Context, func(...actions.Action)) { t.Error("f ran") }})
		}
		out := epics.Effect(identity, h)(ctx, rxgo.Just(nowGo.New(actions.Empty{}))(), fixedPool{})
		item := <-out.Observe(rxgo.WithContext(ctx))
		require.NoError(t, item.E)
		r, ok := nowResult.Match(item.V.(actions.Action))
		require.True(t, ok)
		assert.Equal(t, "now", r)
	})
}

// A nil effect, a Try that panics, or an effect that panics on its
// goroutine fails the epic (actions.EpicFailed) and leaves the program
// running.
func TestBadEffectsFailTheEpic(t *testing.T) {
	cases := map[string]struct {
		ask  func(fx *epics.Effects)
		want string
	}{
		"Run(nil)":    {func(fx *epics.Effects) { fx.Run(nil) }, "Effects.Run with a nil effect"},
		"RunNow(nil)": {func(fx *epics.Effects) { fx.RunNow(nil) }, "Effects.RunNow with a nil effect"},
		"an effect that panics": {func(fx *epics.Effects) {
			fx.Run(func(context.Context, func(...actions.Action)) { panic("effect boom") })
		}, "an effect panicked: effect boom"},
		"a RunNow whose Try panics": {func(fx *epics.Effects) {
			fx.RunNow(nowFx{func() (actions.Action, bool) { panic("try boom") },
				func(context.Context, func(...actions.Action)) { panic("ran after a Try that panicked") }})
		}, "try panicked: try boom"},
		"a RunNow whose Run panics": {func(fx *epics.Effects) {
			fx.RunNow(nowFx{func() (actions.Action, bool) { return actions.Action{}, false },
				func(context.Context, func(...actions.Action)) { panic("run boom") }})
		}, "an effect panicked: run boom"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := nowStore(t, c.ask)
				sub := st.Subscribe(64)
				defer sub.Close()
				require.NoError(t, st.Dispatch(nowGo.New(actions.Empty{})))
				synctest.Wait()
				failed := epicFailures(sub)
				require.Len(t, failed, 1)
				assert.Contains(t, failed[0].Error, c.want)
			})
		})
	}
}
