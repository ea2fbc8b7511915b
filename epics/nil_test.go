package epics_test

import (
	"context"
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

// A nil function or a panicking handler fails its epic (EpicFailed), as
// redux-observable reports an epic's error; the process goes on.
func TestBadEpicFunctionsFailTheEpic(t *testing.T) {
	identity := func(p reducers.Pool) reducers.Pool { return p }
	boom := func(actions.Action, reducers.Pool, *epics.Effects) { panic("handler boom") }
	cases := map[string]store.Epic[reducers.Pool]{
		"Clock(nil)":                     epics.Clock[reducers.Pool](nil),
		"Effect(nil)":                    epics.Effect[reducers.Pool](nil),
		"Effect(get, nil handler)":       epics.Effect(identity, nil),
		"Effect(get, panicking handler)": epics.Effect(identity, boom),
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st, err := store.New(func(s reducers.Pool, _ actions.Action) reducers.Pool { return s }, reducers.Pool{}, store.WithEpic("bad", e))
				require.NoError(t, err)
				sub := st.Subscribe(64)
				require.NoError(t, st.Start(context.Background()))
				defer st.Stop()
				synctest.Wait()
				failed := epicFailures(sub)
				require.Len(t, failed, 1)
				assert.Equal(t, "bad", failed[0].Epic)
				assert.Contains(t, failed[0].Error, "epics:")
			})
		})
	}
	t.Run("a panicking handler outside a store is an error item", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := epics.Effect(identity, boom)(ctx, rxgo.Just(actions.Init.New(actions.Empty{}))(), fixedPool{})
			item := <-out.Observe(rxgo.WithContext(ctx))
			assert.ErrorContains(t, item.E, "handler panicked")
		})
	})
}

type fixedPool struct{}

func (fixedPool) Value() reducers.Pool     { return reducers.Pool{} }
func (fixedPool) Observe() rxgo.Observable { return rxgo.Just(reducers.Pool{})() }
