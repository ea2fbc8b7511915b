package hawechaty_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
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

// BenchmarkSay is one Say round trip: send/REQUESTED reduced and routed,
// the send epic's attempt through a puppet that answers at once,
// send/RESULT reduced, Say woken, send/COLLECTED reduced. Allocations per
// Say should not grow with the number of bots.
func BenchmarkSay(b *testing.B) {
	for _, n := range []int{2, 100, 10_000} {
		b.Run(fmt.Sprintf("bots=%d", n), func(b *testing.B) {
			pool, err := hawechaty.New(hawechaty.WithDingAfter(time.Hour), hawechaty.WithFailAfter(2*time.Hour), hawechaty.WithRateLimit(0, 0, 0))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for i := range n {
				if err := pool.Add(ctx, newInstant(fmt.Sprintf("bot-%d", i))); err != nil {
					b.Fatal(err)
				}
			}
			if err := pool.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer pool.Stop(ctx)
			deadline := time.Now().Add(time.Minute)
			for pool.Health().Available < n {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d bots logged in", pool.Health().Available, n)
				}
				time.Sleep(time.Millisecond)
			}
			// The logins' aftermath (room listings, recovery notices)
			// settles before the clock starts: the store goes quiet.
			for last := uint64(0); ; {
				seq := pool.Store().Seq()
				if seq == last {
					break
				}
				last = seq
				time.Sleep(50 * time.Millisecond)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := pool.Say(ctx, "alice", "hi"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
