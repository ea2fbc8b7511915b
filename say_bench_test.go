package hawechaty_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// instant is a puppet that logs in when started and delivers every
// message at once: what is left of a Say is the pool's own cost.
type instant struct {
	name   string
	events chan puppet.Event
	once   sync.Once
}

func newInstant(name string) *instant {
	return &instant{name: name, events: make(chan puppet.Event, 4)}
}

func (p *instant) Name() string { return p.name }
func (p *instant) Start(context.Context) error {
	p.events <- puppet.Event{Kind: puppet.EventLogin, Self: "self-" + p.name}
	return nil
}
func (p *instant) Stop(context.Context) error                   { return nil }
func (p *instant) Events() <-chan puppet.Event                  { return p.events }
func (p *instant) Say(context.Context, string, string) error    { return nil }
func (p *instant) Rooms(context.Context) ([]puppet.Room, error) { return nil, nil }
func (p *instant) Contacts(context.Context) ([]puppet.Contact, error) {
	return nil, nil
}
func (p *instant) Close() error { p.once.Do(func() { close(p.events) }); return nil }

// trying is an instant puppet that also says so (puppet.TrySayer): the
// pool makes its attempts without handing them to another goroutine, as
// for the mock world's bots.
type trying struct{ *instant }

func (p trying) TrySay(self puppet.Puppet, _, _ string) (bool, error) {
	return self == puppet.Puppet(p), nil
}

// settled is a middleware that closes done once n bots have logged in
// and everything their logins started (room listings, recovery notices)
// has been reduced: the store is quiet from then on.
func settled(n int, done chan<- struct{}) store.Middleware[reducers.Pool] {
	var rooms, recovered atomic.Int64
	var once sync.Once
	return func(store.API[reducers.Pool]) func(store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				err := next(a)
				switch a.Type {
				case actions.RoomsLearned.Type():
					rooms.Add(1)
				case actions.BotRecovered.Type():
					recovered.Add(1)
				default:
					return err
				}
				if rooms.Load() >= int64(n) && recovered.Load() >= int64(n) {
					once.Do(func() { close(done) })
				}
				return err
			}
		}
	}
}

// startSayPool starts a pool of n instant bots and returns once the logins'
// aftermath has settled, so that the clock measures only what follows.
func startSayPool(b *testing.B, n int, handOver bool) *hawechaty.Pool {
	b.Helper()
	quiet := make(chan struct{})
	pool, err := hawechaty.New(hawechaty.WithDingAfter(time.Hour), hawechaty.WithFailAfter(2*time.Hour), hawechaty.WithRateLimit(0, 0, 0),
		hawechaty.WithStoreOptions(store.WithMiddleware(settled(n, quiet))))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		var p puppet.Puppet = trying{newInstant(fmt.Sprintf("bot-%d", i))}
		if handOver {
			p = newInstant(fmt.Sprintf("bot-%d", i))
		}
		if err := pool.Add(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	if err := pool.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pool.Stop(context.Background()) })
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	select {
	case <-quiet:
	case <-deadline.C:
		b.Fatalf("after a minute: %d of %d bots available", pool.Health().Available, n)
	}
	if got := pool.Health().Available; got != n {
		b.Fatalf("%d of %d bots available", got, n)
	}
	return pool
}

// BenchmarkSay is one Say round trip: send/REQUESTED reduced and routed,
// the send epic's attempt through a puppet that answers at once (a
// puppet.TrySayer, as the mock world's bots are), send/RESULT reduced,
// send/COLLECTED reduced, all on the caller's goroutine. Allocations per
// Say should not grow with the number of bots.
func BenchmarkSay(b *testing.B) { benchSay(b, false) }

// BenchmarkSayHandOver is BenchmarkSay through puppets that do not say
// they answer at once (no TrySay), as for a puppet behind a network: the
// attempt is handed to a goroutine of the effects epic, which reduces
// send/RESULT and wakes the caller.
func BenchmarkSayHandOver(b *testing.B) { benchSay(b, true) }

func benchSay(b *testing.B, handOver bool) {
	for _, n := range []int{2, 100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			pool := startSayPool(b, n, handOver)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				if _, err := pool.Say(ctx, "alice", "hi"); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkSayParallel is throughput, not a round trip: Says from
// GOMAXPROCS goroutines at once (b.RunParallel), so ns/op is the time
// per Say when they overlap, and says/s their rate.
func BenchmarkSayParallel(b *testing.B) {
	for _, n := range []int{2, 100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			pool := startSayPool(b, n, false)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := pool.Say(ctx, "alice", "hi"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "says/s")
		})
	}
}

// usage is what the process used so far: CPU time (user and system) and
// voluntary context switches, each a thread of the process that went to
// sleep (mostly in futex: an idle thread waiting for a goroutine to run).
type usage struct {
	cpu    time.Duration
	sleeps int64
}

func cpuTime() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), sleeps: ru.Nvcsw}
}

// reportCPU reports, per op since since, the CPU time of the process (all
// its threads) and the times one of its threads went to sleep. On a
// machine that other processes load, wall time per op grows with their
// load, CPU time much less, and the sleeps hardly: each is a goroutine
// hand-over that had to wake a thread, which costs the waker a system
// call.
func reportCPU(b *testing.B, since usage) {
	now := cpuTime()
	b.ReportMetric(float64(now.cpu-since.cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(now.sleeps-since.sleeps)/float64(b.N), "sleeps/op")
}
