package reducers_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// poolOf builds a pool of n logged-in bots, stamped at t0.
func poolOf(n int) reducers.Pool {
	var s reducers.Pool
	seq := uint64(0)
	for i := range n {
		id := fmt.Sprintf("bot-%d", i)
		for _, a := range []actions.Action{added(id), login(id)} {
			seq++
			a.Meta.Time, a.Meta.Seq = t0, seq
			s = reducers.PoolReducer(s, a)
		}
	}
	return s
}

// w1Cycle returns one W1 cycle of actions per bot: 7 inbound messages
// (distinct IDs within the cycle, so the dedupe window records them), one
// send requested (the reducer routes it: round robin gives the k-th send
// of the cycle to the k-th bot), its delivery, its collection, and a dong.
func w1Cycle(s reducers.Pool) []actions.Action {
	acts := make([]actions.Action, 0, 11*s.Bots.Len())
	for _, id := range s.Bots.Keys() {
		for k := range 7 {
			acts = append(acts, message(id, fmt.Sprintf("m-%s-%d", id, k), "carol", ""))
		}
		sid := "s-" + id
		acts = append(acts, requested(sid, "alice"), result(sid, id, 1, actions.Delivered), collected(sid), dong(id))
	}
	return acts
}

// TestW1CycleDelivers checks that the benchmark's workload is what it says:
// every send of a cycle is routed to the bot its result names, delivered
// and collected, so the benchmark measures real routing, not ignored
// results.
func TestW1CycleDelivers(t *testing.T) {
	s := poolOf(5)
	for round := range 3 {
		for i, a := range w1Cycle(s) {
			a.Meta.Seq = uint64(1000*round + i + 100)
			a.Meta.Time = t0
			if p, ok := actions.SendResult.Match(a); ok {
				if sd, _ := s.Sends.Get(p.ID); sd == nil || sd.Bot != p.Bot {
					t.Fatalf("round %d: %s routed to %+v, the cycle says %s", round, p.ID, sd, p.Bot)
				}
			}
			s = reducers.PoolReducer(s, a)
		}
		if s.Delivered != 5*(round+1) || s.Sends.Len() != 0 {
			t.Fatalf("round %d: delivered %d, sends left %d", round, s.Delivered, s.Sends.Len())
		}
	}
}

// BenchmarkPoolDispatch is workload W1 on the real pool reducer, through a
// store (issue #4). It also reports the heap held per bot.
func BenchmarkPoolDispatch(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			initial := poolOf(n)
			runtime.GC()
			runtime.ReadMemStats(&after)
			perBot := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
			acts := w1Cycle(initial)

			// The store stamps wall time, and W1 sends far faster than any
			// send budget: budgets off, so that routing is measured, not
			// waiting.
			st, err := store.New(reducers.Config{RateLimit: reducers.RateLimit{Sends: -1}}.Defaults().Reducer(), initial)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Stop()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := st.Dispatch(acts[i%len(acts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.StopTimer()
			if s := st.State(); i >= len(acts) && s.Delivered < i/len(acts)*n {
				b.Fatalf("%d cycles delivered %d sends", i/len(acts), s.Delivered)
			}
			b.ReportMetric(perBot, "heapB/bot")
		})
	}
}

// BenchmarkPoolReducer is workload W1 on the pure reducer, without a
// store: the cost of the decisions alone.
func BenchmarkPoolReducer(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			s := poolOf(n)
			acts := w1Cycle(s)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a := acts[i%len(acts)]
				// 1 ms an action: each bot sends once a cycle (1.1 s at 100
				// bots), within its send budget, as a real pool would.
				a.Meta.Seq, a.Meta.Time = uint64(i+1), t0.Add(time.Duration(i)*time.Millisecond)
				s = reducers.PoolReducer(s, a)
				i++
			}
		})
	}
}
