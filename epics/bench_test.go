package epics_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// idlePuppet is the cheapest puppet: it answers nothing, or answers each
// ding with a dong (as the heartbeat contact does, through the facade).
type idlePuppet struct {
	bot   string
	dong  func(bot string)
	dings *atomic.Int64
}

func (p idlePuppet) Name() string                                       { return p.bot }
func (p idlePuppet) Start(context.Context) error                        { return nil }
func (p idlePuppet) Stop(context.Context) error                         { return nil }
func (p idlePuppet) Events() <-chan puppet.Event                        { return nil }
func (p idlePuppet) Close() error                                       { return nil }
func (p idlePuppet) Rooms(context.Context) ([]puppet.Room, error)       { return nil, nil }
func (p idlePuppet) Contacts(context.Context) ([]puppet.Contact, error) { return nil, nil }
func (p idlePuppet) Say(_ context.Context, to, text string) error {
	if text == "ding" {
		p.dings.Add(1)
		if p.dong != nil {
			p.dong(p.bot)
		}
	}
	return nil
}

// hourStats is what one virtual hour of an idle pool cost.
type hourStats struct {
	actions, dues, dings, resets int64
}

// idleHour runs a pool of n idle bots (default Config: jitter, backoff)
// for one virtual hour, in a synctest bubble, and counts what happened.
func idleHour(t *testing.T, n int, answer bool) hourStats {
	var st *store.Store[reducers.Pool]
	var dings, dues, resets atomic.Int64
	var dong func(string)
	if answer {
		dong = func(bot string) { _ = st.Dispatch(actions.Dong.New(actions.BotPayload{Bot: bot})) }
	}
	pups := make(map[string]puppet.Puppet, n)
	for i := range n {
		id := fmt.Sprintf("bot-%d", i)
		pups[id] = idlePuppet{bot: id, dong: dong, dings: &dings}
	}
	cfg := epics.Config{}.Defaults()
	deps := epics.Deps{Puppet: func(b string) (puppet.Puppet, bool) { p, ok := pups[b]; return p, ok }}
	count := func(api store.API[reducers.Pool]) func(store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				switch a.Type {
				case actions.Due.Type():
					dues.Add(1)
				case actions.ResetDone.Type():
					resets.Add(1)
				}
				return next(a)
			}
		}
	}
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithMiddleware(count),
		store.WithEpic("clock", epics.Clock(identity)),
		store.WithEpic("effects", epics.Effect(identity,
			epics.Ding(cfg, deps), epics.Reset(cfg, deps), epics.Rooms(cfg, deps),
			epics.Send(cfg, deps), epics.Health(), epics.Inbox(deps))))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("bot-%d", i)
		_ = st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: id, Puppet: "idle"}))
		_ = st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: id, Self: id}))
	}
	time.Sleep(time.Hour)
	synctest.Wait()
	s := st.State()
	st.Stop()
	if answer && s.Available != n {
		t.Errorf("%d of %d bots available after an hour of dongs", s.Available, n)
	}
	if !answer && s.Available != 0 {
		t.Errorf("%d bots available after an hour of silence", s.Available)
	}
	return hourStats{actions: int64(st.Seq()), dues: dues.Load(), dings: dings.Load(), resets: resets.Load()}
}

// inBubble runs f in a synctest bubble from a benchmark. synctest.Test
// needs a *testing.T, which a benchmark has not: testing.RunTests makes
// one (its matcher accepts the test whatever -run says; with -count, the
// test runs once).
func inBubble(b *testing.B, f func(t *testing.T)) {
	b.Helper()
	ran := false
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: b.Name(), F: func(t *testing.T) {
			if ran {
				return
			}
			ran = true
			synctest.Test(t, f)
		}}})
	if !ok {
		b.Fatal("the run in the bubble failed")
	}
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHeartbeatIdle10k is the heartbeat's cost for 10,000 idle bots
// over one virtual hour: a store with the pool's reducer, the Clock and
// Effect epics, and puppets that answer dings with nothing (silent: every
// bot is failed at 2 min and reset with backoff for the rest of the hour)
// or with a dong (dong: every bot dinged once per minute of silence). One
// op is one virtual hour, setup (10,000 bots added and logged in)
// included; ns/op is the real time it takes, cpu-ns/vhour the CPU time of
// the process (all cores) meanwhile.
func BenchmarkHeartbeatIdle10k(b *testing.B) {
	for _, answer := range []bool{false, true} {
		name := map[bool]string{false: "silent", true: "dong"}[answer]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var total hourStats
			cpu0 := cpuTime()
			for b.Loop() {
				inBubble(b, func(t *testing.T) {
					h := idleHour(t, 10_000, answer)
					total.actions += h.actions
					total.dues += h.dues
					total.dings += h.dings
					total.resets += h.resets
				})
			}
			cpu := cpuTime() - cpu0
			per := func(x int64) float64 { return float64(x) / float64(b.N) }
			b.ReportMetric(per(int64(cpu)), "cpu-ns/vhour")
			b.ReportMetric(per(total.actions), "actions/vhour")
			b.ReportMetric(per(total.dues), "dues/vhour")
			b.ReportMetric(per(total.dings), "dings/vhour")
			b.ReportMetric(per(total.resets), "resets/vhour")
		})
	}
}
