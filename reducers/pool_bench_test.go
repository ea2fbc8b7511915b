package reducers_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// poolOf builds a pool of n logged-in bots.
func poolOf(n int) reducers.Pool {
	var s reducers.Pool
	for i := range n {
		id := fmt.Sprintf("bot-%d", i)
		s = reducers.PoolReducer(s, actions.BotAdded.New(actions.BotAddedPayload{Bot: id, Puppet: "mock"}))
		s = reducers.PoolReducer(s, actions.Login.New(actions.LoginPayload{Bot: id, Self: id}))
	}
	return s
}

// w1Cycle returns one W1 cycle of actions per bot: 7 messages, 1 send
// routed (advances the cursor), 1 send delivered, 1 dong.
func w1Cycle(s reducers.Pool) []actions.Action {
	acts := make([]actions.Action, 0, 10*s.Bots.Len())
	for _, id := range s.Bots.Keys() {
		for range 7 {
			acts = append(acts, actions.Message.New(actions.MessagePayload{Bot: id, MessageID: "m", From: "carol", Text: "hi"}))
		}
		acts = append(acts,
			actions.SendRouted.New(actions.RoutePayload{ID: "s", Bot: id, Attempt: 1}),
			actions.SendResult.New(actions.SendResultPayload{ID: "s", Bot: id, Attempt: 1, Outcome: reducers.OutcomeDelivered}),
			actions.Dong.New(actions.BotPayload{Bot: id}))
	}
	return acts
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

			st, err := store.New(reducers.PoolReducer, initial)
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
			b.ReportMetric(perBot, "heapB/bot")
		})
	}
}
