package epics_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakePuppet records calls; sayErr decides each Say's result.
type fakePuppet struct {
	name   string
	mu     sync.Mutex
	says   []string
	resets int
	sayErr func(to string) error
	events chan puppet.Event
}

func newFake(name string) *fakePuppet {
	return &fakePuppet{name: name, events: make(chan puppet.Event)}
}

func (f *fakePuppet) Name() string                                 { return f.name }
func (f *fakePuppet) Start(context.Context) error                  { f.mu.Lock(); f.resets++; f.mu.Unlock(); return nil }
func (f *fakePuppet) Stop(context.Context) error                   { return nil }
func (f *fakePuppet) Events() <-chan puppet.Event                  { return f.events }
func (f *fakePuppet) Close() error                                 { return nil }
func (f *fakePuppet) Rooms(context.Context) ([]puppet.Room, error) { return nil, nil }
func (f *fakePuppet) Contacts(context.Context) ([]puppet.Contact, error) {
	return nil, nil
}
func (f *fakePuppet) Say(_ context.Context, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.says = append(f.says, to+":"+text)
	if f.sayErr != nil {
		return f.sayErr(to)
	}
	return nil
}
func (f *fakePuppet) said() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.says...)
}

type rig struct {
	st      *store.Store[reducers.Pool]
	sub     *store.Subscription[reducers.Pool]
	puppets map[string]*fakePuppet
	start   time.Time
}

func newRig(t *testing.T, cfg epics.Config, bots ...string) *rig {
	t.Helper()
	r := &rig{puppets: map[string]*fakePuppet{}}
	for _, b := range bots {
		r.puppets[b] = newFake(b)
	}
	var st *store.Store[reducers.Pool]
	deps := epics.Deps{
		Puppet: func(b string) (puppet.Puppet, bool) {
			p, ok := r.puppets[b]
			return p, ok
		},
		Dispatch: func(a actions.Action) error { return st.Dispatch(a) },
	}
	cfg.Rand = func() float64 { return 0.5 } // no jitter: exact timings
	st, err := store.New(reducers.PoolReducer, reducers.Pool{},
		store.WithEpic("heartbeat", epics.Heartbeat(cfg, deps)),
		store.WithEpic("reset", epics.Reset(cfg, deps)),
		store.WithEpic("health", epics.PoolHealth()),
		store.WithEpic("send", epics.Send(cfg, deps)))
	require.NoError(t, err)
	r.st = st
	r.sub = st.Subscribe(100_000)
	require.NoError(t, st.Start(t.Context()))
	r.start = time.Now()
	for _, b := range bots {
		require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b, Puppet: "fake"})))
		require.NoError(t, st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: b})))
	}
	synctest.Wait()
	return r
}

// log returns "<seconds since start> <type> <bot>" for the actions of the
// given types seen so far.
func (r *rig) log(types ...string) []string {
	var out []string
	for {
		select {
		case c := <-r.sub.C():
			for _, typ := range types {
				if c.Action.Type == typ {
					out = append(out, fmt.Sprintf("%v %s %s", c.Action.Meta.Time.Sub(r.start), typ, botOf(c.Action)))
				}
			}
		default:
			return out
		}
	}
}

func botOf(a actions.Action) string {
	switch p := a.Payload.(type) {
	case actions.DingPayload:
		return fmt.Sprintf("%s#%d", p.Bot, p.Attempt)
	case actions.ReasonPayload:
		return p.Bot
	case actions.ResetPayload:
		return fmt.Sprintf("%s#%d+%v", p.Bot, p.Attempt, p.Delay)
	case actions.BotPayload:
		return p.Bot
	case actions.RoutePayload:
		return fmt.Sprintf("%s@%s#%d", p.ID, p.Bot, p.Attempt)
	case actions.SendDonePayload:
		return fmt.Sprintf("%s@%s %s", p.ID, p.Bot, p.Outcome)
	}
	return ""
}

func (r *rig) stop() { r.st.Stop() }

func TestHeartbeatDingsAfterSilenceThenFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1")
		defer r.stop()
		time.Sleep(150 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{
			"1m0s bot/DING b1#1",
			"1m20s bot/DING b1#2",
			"1m40s bot/DING b1#3",
			"2m0s bot/FAILED b1",
			"2m1s bot/RESET_STARTED b1#1+1s",
			"2m2.6s bot/RESET_STARTED b1#2+1.6s",
			"2m5.16s bot/RESET_STARTED b1#3+2.56s",
			"2m9.256s bot/RESET_STARTED b1#4+4.096s",
			"2m15.8096s bot/RESET_STARTED b1#5+6.5536s",
			"2m26.29536s bot/RESET_STARTED b1#6+10.48576s",
		}, r.log(actions.Ding.Type(), actions.BotFailed.Type(), actions.ResetStarted.Type()))
		assert.Equal(t, []string{"gh_051c89260e5d:ding", "gh_051c89260e5d:ding", "gh_051c89260e5d:ding"}, r.puppets["b1"].said())
	})
}

func TestDongCancelsDingsAndRecoveryStopsResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1")
		defer r.stop()
		time.Sleep(61 * time.Second) // first ding at 60 s
		require.NoError(t, r.st.Dispatch(actions.Dong.New(actions.BotPayload{Bot: "b1"})))
		time.Sleep(60 * time.Second) // silence again: ding at 121 s
		synctest.Wait()
		assert.Equal(t, []string{"1m0s bot/DING b1#1", "2m1s bot/DING b1#1"}, r.log(actions.Ding.Type(), actions.BotFailed.Type()))

		// Fail it, let two resets run, then it logs in: resets stop.
		require.NoError(t, r.st.Dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "test"})))
		time.Sleep(3 * time.Second)
		require.NoError(t, r.st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1"})))
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"2m2s bot/RESET_STARTED b1#1+1s", "2m3.6s bot/RESET_STARTED b1#2+1.6s"}, r.log(actions.ResetStarted.Type()))
		b, _ := r.st.State().Bots.Get("b1")
		assert.True(t, b.Available)
		assert.Equal(t, 0, b.Resets)

		// Silent again (the fake never answers a ding): failed 120 s after
		// the login, and the backoff starts over at 1 s.
		time.Sleep(62 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"4m4s bot/FAILED b1", "4m5s bot/RESET_STARTED b1#1+1s"}, r.log(actions.BotFailed.Type(), actions.ResetStarted.Type()))
	})
}

func TestPoolFailedAndRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1", "b2")
		defer r.stop()
		for _, b := range []string{"b1", "b2"} {
			require.NoError(t, r.st.Dispatch(actions.Logout.New(actions.ReasonPayload{Bot: b, Reason: "x"})))
		}
		synctest.Wait()
		require.NoError(t, r.st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: "b2"})))
		synctest.Wait()
		assert.Equal(t, []string{"0s pool/FAILED ", "0s pool/RECOVERED "}, r.log(actions.PoolFailed.Type(), actions.PoolRecovered.Type()))
		assert.False(t, r.st.State().Down)
	})
}

func TestSendRoundRobinRetryAndEject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1", "b2", "b3")
		defer r.stop()
		r.puppets["b2"].sayErr = func(string) error { return fmt.Errorf("link down: %w", puppet.ErrNotSent) }
		for i := range 6 {
			require.NoError(t, r.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: fmt.Sprint("s", i), To: "alice", Text: "hi"})))
			synctest.Wait()
		}
		assert.Equal(t, []string{
			"0s send/DONE s0@b1 delivered",
			"0s send/DONE s1@b3 delivered", // b2 not sent: retried on b3
			"0s send/DONE s2@b1 delivered",
			"0s send/DONE s3@b3 delivered",
			"0s send/DONE s4@b1 delivered",
			"0s send/DONE s5@b3 delivered", // b2 ejected after 3 failures: skipped
		}, r.log(actions.SendDone.Type()))
		b2, _ := r.st.State().Bots.Get("b2")
		assert.False(t, b2.Available, "ejected")
		assert.Equal(t, "3 consecutive failed sends", b2.Reason)
		assert.Equal(t, 3, r.st.State().Failovers)
		assert.Equal(t, 6, r.st.State().Delivered)
	})
}

func TestSendUnknownOutcomeIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1", "b2")
		defer r.stop()
		r.puppets["b1"].sayErr = func(string) error { return fmt.Errorf("timeout after send: %w", puppet.ErrOutcomeUnknown) }
		require.NoError(t, r.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s", To: "alice", Text: "hi"})))
		synctest.Wait()
		assert.Equal(t, []string{"0s send/DONE s@b1 outcome unknown"}, r.log(actions.SendDone.Type()))
		assert.Empty(t, r.puppets["b2"].said(), "never doubled on another bot")
	})
}

func TestSendNoBot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{}, "b1")
		defer r.stop()
		require.NoError(t, r.st.Dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b1"})))
		require.NoError(t, r.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s", To: "alice", Text: "hi"})))
		synctest.Wait()
		assert.Equal(t, []string{"0s send/DONE s@ no bot"}, r.log(actions.SendDone.Type()))
	})
}

func TestSendWaitsForABotWhenAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, epics.Config{WaitForBot: true}, "b1")
		defer r.stop()
		require.NoError(t, r.st.Dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b1"})))
		require.NoError(t, r.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s", To: "alice", Text: "hi"})))
		time.Sleep(5 * time.Second)
		require.NoError(t, r.st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1"})))
		synctest.Wait()
		assert.Equal(t, []string{"5s send/DONE s@b1 delivered"}, r.log(actions.SendDone.Type()))
	})
}

func TestBackoffDelay(t *testing.T) {
	b := epics.DefaultBackoff
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 1600 * time.Millisecond},
		{3, 0.5, 2560 * time.Millisecond},
		{1, 0, 800 * time.Millisecond},  // -20 %
		{1, 1, 1200 * time.Millisecond}, // +20 %
		{12, 0.5, 120 * time.Second},    // 1.6^11 s = 175.9 s, capped
		{12, 0.999, 120 * time.Second},  // jitter never exceeds the cap
		{12, 0, 96 * time.Second},       // cap, then -20 %
		{0, 0.5, time.Second},           // attempts below 1 count as 1
		{1000, 0.5, 120 * time.Second},  // no overflow
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, b.Delay(tt.attempt, tt.r).Round(time.Millisecond), "attempt %d r %v", tt.attempt, tt.r)
	}
}

func TestConfigValidate(t *testing.T) {
	assert.NoError(t, epics.Config{}.Defaults().Validate())
	err := epics.Config{DingAfter: time.Minute, FailAfter: time.Second, DingJitter: 2, Backoff: epics.Backoff{Factor: 0.5}}.Validate()
	require.Error(t, err)
	for _, want := range []string{"DingAfter 1m0s must be shorter than FailAfter 1s", "DingJitter 2", "backoff"} {
		assert.ErrorContains(t, err, want)
	}
}

// Validate rejects what would make the epics misbehave silently: NaN
// passes every comparison written as "x < 0 || x >= 1" (a NaN backoff
// factor made resets fire without backoff), and a DingAfter below 3 ns
// derives DingEvery 0 (a busy loop of dings).
func TestConfigValidateRejectsNaNInfAndZeroDingEvery(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	ok := epics.Config{}.Defaults()
	tests := []struct {
		name string
		cfg  epics.Config
		want string
	}{
		{"DingJitter NaN", epics.Config{DingJitter: nan}, "DingJitter NaN out of [0, 1)"},
		{"DingJitter +Inf", epics.Config{DingJitter: inf}, "DingJitter +Inf out of [0, 1)"},
		{"DingJitter -Inf", epics.Config{DingJitter: -inf}, "DingJitter -Inf out of [0, 1)"},
		{"Factor NaN", epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: nan, Jitter: 0.2, Max: time.Minute}}, "Factor ≥ 1 and finite"},
		{"Factor +Inf", epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: inf, Jitter: 0.2, Max: time.Minute}}, "Factor ≥ 1 and finite"},
		{"Factor -Inf", epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: -inf, Jitter: 0.2, Max: time.Minute}}, "Factor ≥ 1 and finite"},
		{"backoff Jitter NaN", epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: 2, Jitter: nan, Max: time.Minute}}, "Jitter in [0, 1)"},
		{"backoff Jitter +Inf", epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: 2, Jitter: inf, Max: time.Minute}}, "Jitter in [0, 1)"},
		{"DingAfter 2ns", epics.Config{DingAfter: 2 * time.Nanosecond}, "DingEvery is 0: DingAfter 2ns is too short to derive it"},
		{"ScanTimeout shorter than FailAfter", epics.Config{ScanTimeout: time.Minute}, "ScanTimeout 1m0s must not be shorter than FailAfter 2m0s"},
		{"ScanTimeout negative", epics.Config{ScanTimeout: -time.Minute}, "durations must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, tt.cfg.Defaults().Validate(), tt.want)
		})
	}
	assert.NoError(t, ok.Validate())
	assert.NoError(t, epics.Config{DingAfter: 3 * time.Nanosecond}.Defaults().Validate(), "DingEvery 1ns is odd but no busy loop")
	assert.Equal(t, 10*time.Minute, ok.ScanTimeout)
	assert.Equal(t, time.Hour, epics.Config{FailAfter: time.Hour}.Defaults().ScanTimeout, "never shorter than FailAfter")
}
