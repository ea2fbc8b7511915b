package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Workload W1 (issue #2): a state of N bots and a round-robin cursor;
// actions cycle in tens: 7 "message received", 1 "send requested",
// 1 "send succeeded", 1 "dong". The Node baseline (Redux 5 with
// redux-observable) takes 2.7 µs per action at 100 bots and 5.3 ms at
// 10,000 bots.

type w1Bot struct {
	Available bool
	LastSeen  int64
	Sent      int
	Failures  int
}

type w1State struct {
	Bots   reducers.Table[*w1Bot]
	Cursor int
}

var (
	w1Message = actions.Define[string]("w1/MESSAGE")
	w1Request = actions.Define[actions.Empty]("w1/SEND_REQUESTED")
	w1Sent    = actions.Define[string]("w1/SEND_SUCCEEDED")
	w1Dong    = actions.Define[string]("w1/DONG")
)

func w1Reducer(s w1State, a actions.Action) w1State {
	switch a.Type {
	case w1Message.Type():
		id, _ := w1Message.Match(a)
		s.Bots = s.Bots.Update(id, func(b *w1Bot) *w1Bot {
			c := *b
			c.LastSeen = a.Meta.Time.UnixNano()
			return &c
		})
	case w1Request.Type():
		s.Cursor++
		if s.Cursor >= s.Bots.Slots() {
			s.Cursor = 0
		}
	case w1Sent.Type():
		id, _ := w1Sent.Match(a)
		s.Bots = s.Bots.Update(id, func(b *w1Bot) *w1Bot {
			c := *b
			c.Sent++
			c.Failures = 0
			return &c
		})
	case w1Dong.Type():
		id, _ := w1Dong.Match(a)
		s.Bots = s.Bots.Update(id, func(b *w1Bot) *w1Bot {
			c := *b
			c.Available = true
			c.LastSeen = a.Meta.Time.UnixNano()
			return &c
		})
	}
	return s
}

func w1Setup(n int) (w1State, []actions.Action) {
	var s w1State
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bot-%d", i)
		s.Bots = s.Bots.Set(ids[i], &w1Bot{Available: true})
	}
	// Pre-build one cycle per bot so that building actions is not measured.
	acts := make([]actions.Action, 0, 10*n)
	for i := range n {
		id := ids[i%n]
		for range 7 {
			acts = append(acts, w1Message.New(id))
		}
		acts = append(acts, w1Request.New(actions.Empty{}), w1Sent.New(id), w1Dong.New(id))
	}
	return s, acts
}

func w1Filter(typ string, seen *atomic.Int64) store.Epic[w1State] {
	return func(ctx context.Context, in rxgo.Observable, _ store.StateStream[w1State]) rxgo.Observable {
		// Count every action, keep those of one type, and react with
		// nothing: the cost measured is the epics' input path.
		return in.Filter(func(v any) bool {
			seen.Add(1)
			return v.(actions.Action).Type == typ
		}, rxgo.WithContext(ctx), rxgo.WithBufferedChannel(1024)).
			IgnoreElements(rxgo.WithContext(ctx))
	}
}

func BenchmarkDispatchW1(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			initial, acts := w1Setup(n)
			s, err := store.New(w1Reducer, initial)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Stop()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.Dispatch(acts[i%len(acts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkDispatchW1Epics runs W1 through a store with three epics that
// filter by type, and measures until every epic has seen every action.
func BenchmarkDispatchW1Epics(b *testing.B) { benchW1Epics(b, w1Filter) }

// benchW1Epics runs W1 through a store with three epics made by filter,
// one per type, until every epic has seen every action.
func benchW1Epics(b *testing.B, filter func(typ string, seen *atomic.Int64) store.Epic[w1State]) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			initial, acts := w1Setup(n)
			var seen [3]atomic.Int64
			s, err := store.New(w1Reducer, initial,
				store.WithEpic("messages", filter(w1Message.Type(), &seen[0])),
				store.WithEpic("sends", filter(w1Sent.Type(), &seen[1])),
				store.WithEpic("dongs", filter(w1Dong.Type(), &seen[2])))
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Stop()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := s.Dispatch(acts[i%len(acts)]); err != nil {
					b.Fatal(err)
				}
			}
			want := int64(b.N) + 1 // + INIT
			for k := range seen {
				for seen[k].Load() < want {
					select {
					case <-s.Done():
						b.Fatal("store stopped")
					default:
					}
					runtimeGosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "actions/s")
		})
	}
}

// w1Direct is w1Filter as an epic that takes its actions directly
// (store.DirectInput): the same count and filter, on the dispatching
// goroutine.
type w1Direct struct {
	rxgo.Observable
	typ  string
	seen *atomic.Int64
	kept int
}

func (d *w1Direct) Input() func(actions.Action) {
	return func(a actions.Action) {
		d.seen.Add(1)
		if a.Type == d.typ {
			d.kept++
		}
	}
}

func w1DirectFilter(typ string, seen *atomic.Int64) store.Epic[w1State] {
	return func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[w1State]) rxgo.Observable {
		return &w1Direct{Observable: rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx)), typ: typ, seen: seen}
	}
}

// BenchmarkDispatchW1Direct is BenchmarkDispatchW1Epics with the three
// epics taking their actions directly: compare the two in one run.
func BenchmarkDispatchW1Direct(b *testing.B) { benchW1Epics(b, w1DirectFilter) }
