package store_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gcTaker is a DirectInput epic that, as the doc allows, never looks at
// its input Observable. Its Input collects garbage until the epic's
// mailbox is gone from the store (EpicBacklog drops from 1, the queued
// Init, to 0), as any garbage collection between the epic function's
// return and the store's claim would do.
type gcTaker struct {
	rxgo.Observable
	backlog  func() int
	mu       sync.Mutex
	seen     []string
	collects int
}

func (g *gcTaker) Input() func(actions.Action) {
	for g.collects = 0; g.collects < 20 && g.backlog() > 0; g.collects++ {
		runtime.GC()
		runtime.Gosched()
	}
	return func(a actions.Action) {
		g.mu.Lock()
		g.seen = append(g.seen, a.Type)
		g.mu.Unlock()
	}
}

func (g *gcTaker) types() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}

// A DirectInput epic that drops its input Observable (the doc only says
// it must not subscribe to it) loses its mailbox to the cleanup that
// runs when the input becomes garbage: addDirect's claim then returns
// nil, runEpic takes that for "the store stopped", and the epic silently
// never takes an action, with no EpicFailed either.
func TestReviewDirectInputSurvivesGC(t *testing.T) {
	g := &gcTaker{}
	s, err := store.New(func(prev []string, a actions.Action) []string { return append(prev, a.Type) }, nil,
		store.WithEpic("gc", func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[[]string]) rxgo.Observable {
			g.Observable = idle(ctx)
			return g
		}))
	require.NoError(t, err)
	g.backlog = s.EpicBacklog
	require.NoError(t, s.Start(context.Background()))
	defer s.Stop()
	require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
	assert.Equal(t, []string{actions.Init.Type(), noise.Type()}, g.types(),
		"the direct epic takes every action from Init on (GCs run in Input: %d); state: %v", g.collects, s.State())
}
