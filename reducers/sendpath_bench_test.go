package reducers_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// cpuTime is the CPU time (user and system) the process used so far: on
// a machine other processes load, wall time per op grows with their load,
// CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sink holds the last state, as the store keeps it, so that the
// compiler cannot drop a reduction.
var sink reducers.Pool

// BenchmarkSendPath is the reducer's share of one Say: send/REQUESTED
// (collected as it ends, SendPayload.Collect, as Say's are) routed, then
// send/RESULT delivered, which ends the send, each stamped as the store
// stamps it (Meta.Seq one past the last, Meta.Time set). The clock moves a second per
// Say, so that with the default send budget every send is routed at once:
// the path measured is the one of a pool within its budget. Allocations
// per op should not grow with the number of bots. cpu-ns/op is the CPU
// time of the process (the garbage collector's included) per op.
func BenchmarkSendPath(b *testing.B) {
	configs := []struct {
		name string
		cfg  reducers.Config
	}{
		{"default", reducers.Config{}.Defaults()},
		{"ratelimit=off", reducers.Config{RateLimit: reducers.RateLimit{Sends: -1}}.Defaults()},
	}
	for _, cf := range configs {
		for _, n := range []int{2, 100, 10_000} {
			b.Run(fmt.Sprintf("%s/bots=%d", cf.name, n), func(b *testing.B) {
				reduce := cf.cfg.Reducer()
				start := time.Now()
				var s reducers.Pool
				seq := uint64(0)
				stamp := func(a actions.Action, t time.Time) actions.Action {
					seq++
					a.Meta.Seq, a.Meta.Time = seq, t
					return a
				}
				for i := range n {
					id := fmt.Sprintf("bot-%d", i)
					s = reduce(s, stamp(added(id), start))
					s = reduce(s, stamp(login(id), start))
				}
				ids := make([]string, 1024)
				reqs := make([]actions.Action, len(ids))
				for i := range ids {
					ids[i] = fmt.Sprintf("send-%d", i)
					reqs[i] = actions.SendRequested.New(actions.SendPayload{ID: ids[i], To: "alice", Text: "hello", Collect: true})
				}
				b.ReportAllocs()
				cpu := cpuTime()
				i := 0
				for b.Loop() {
					k := i % len(ids)
					id := ids[k]
					t := start.Add(time.Duration(i+1) * time.Second)
					s = reduce(s, stamp(reqs[k], t))
					sink = s
					sd, _ := s.Sends.Get(id)
					s = reduce(s, stamp(result(id, sd.Bot, 1, actions.Delivered), t.Add(time.Microsecond)))
					sink = s
					i++
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				if s.Delivered != i || s.Sends.Len() != 0 || s.Ended == nil || s.Ended.Outcome != actions.Delivered {
					b.Fatalf("%d sends: %d delivered, %d left", i, s.Delivered, s.Sends.Len())
				}
			})
		}
	}
}
