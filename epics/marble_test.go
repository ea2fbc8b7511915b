package epics_test

import (
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

func noJitter(cfg epics.Config) epics.Config {
	cfg.Rand = func() float64 { return 0.5 }
	return cfg
}

func ding(n int) actions.Action {
	return actions.Ding.New(actions.DingPayload{Bot: "b1", Attempt: n})
}

var b1 = actions.BotPayload{Bot: "b1"}

// loggedIn is a pool in which the given bots are logged in: the state the
// heartbeat and reset epics read (they ignore bots not in the pool, and a
// logged-out bot's Heartbeat or Dong).
func loggedIn(bots ...string) reducers.Pool {
	var s reducers.Pool
	for _, b := range bots {
		s = reducers.PoolReducer(s, actions.BotAdded.New(actions.BotAddedPayload{Bot: b}))
		s = reducers.PoolReducer(s, actions.Login.New(actions.LoginPayload{Bot: b}))
	}
	return s
}

// With HAWechaty's defaults and no jitter: the first ding after 60 s of
// silence, repeats every 20 s, failure at 120 s.
func TestHeartbeatMarbles(t *testing.T) {
	v := marbletest.Values{
		"a": actions.Login.New(actions.LoginPayload{Bot: "b1"}),
		"g": actions.Dong.New(b1),
		"m": actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "1"}),
		"d": ding(1), "e": ding(2), "f": ding(3),
		"x": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "no sign of life for 2m0s after 3 dings"}),
		"r": actions.BotRemoved.New(b1),
	}
	epic := epics.Heartbeat(noJitter(epics.Config{}), epics.Deps{})
	cases := []struct{ name, input, want string }{
		{"silence: three dings, then failure", "a", "60s d 19s e 19s f 19s x"},
		{"a dong restarts the clock", "a 64s g", "60s d 64s d 19s e 19s f 19s x"},
		{"any message is a sign of life", "a 49s m", "110s d 19s e 19s f 19s x"},
		{"a removed bot is not watched", "a 69s r", "60s d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
				marbletest.ExpectEpic(m, epic, marbletest.EpicCase[reducers.Pool]{Input: c.input, Values: v, State: loggedIn("b1"), Expected: c.want, For: 5 * time.Minute})
			})
		})
	}
}

// DingAfter is jittered by ±1/6: with the random draw at its extremes the
// first ding comes at 50 s or 70 s; repeats and failure do not move.
func TestHeartbeatJitterBounds(t *testing.T) {
	v := marbletest.Values{
		"a": actions.Login.New(actions.LoginPayload{Bot: "b1"}),
		"d": ding(1), "e": ding(2), "f": ding(3), "g": ding(4),
		"x": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "no sign of life for 2m0s after 4 dings"}),
		"y": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "no sign of life for 2m0s after 3 dings"}),
	}
	for _, c := range []struct {
		r    float64
		want string
	}{
		{0, "50s d 19s e 19s f 19s g 9s x"},
		{1, "70s d 19s e 19s f 9s y"},
	} {
		cfg := epics.Config{Rand: func() float64 { return c.r }}
		marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
			marbletest.ExpectEpic(m, epics.Heartbeat(cfg, epics.Deps{}), marbletest.EpicCase[reducers.Pool]{Input: "a", Values: v, State: loggedIn("b1"), Expected: c.want, For: time.Minute})
		})
	}
}

func reset(n int, delay time.Duration) (actions.Action, actions.Action) {
	p := actions.ResetPayload{Bot: "b1", Attempt: n, Delay: delay}
	return actions.ResetStarted.New(p), actions.ResetDone.New(p)
}

// The reset loop: attempts after 1 s, 1.6 s, 2.56 s, 4.096 s … until a
// login or a dong cancels it; capped by Backoff.Max.
func TestResetMarbles(t *testing.T) {
	s1, S1 := reset(1, time.Second)
	s2, S2 := reset(2, 1600*time.Millisecond)
	s3, S3 := reset(3, 2560*time.Millisecond)
	s4, S4 := reset(4, 4096*time.Millisecond)
	v := marbletest.Values{
		"f": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "silent"}),
		"L": actions.Login.New(actions.LoginPayload{Bot: "b1"}),
		"g": actions.Dong.New(b1),
		"s": s1, "S": S1, "t": s2, "T": S2, "u": s3, "U": S3, "w": s4, "W": S4,
	}
	fake := newFake("b1")
	deps := epics.Deps{Puppet: func(string) (puppet.Puppet, bool) { return fake, true }}
	epic := epics.Reset(noJitter(epics.Config{}), deps)
	cases := []struct{ name, input, want string }{
		{"backoff until a login", "f 9999ms L", "1000ms (sS) 1596ms (tT) 2556ms (uU) 4092ms (wW)"},
		{"a dong also cancels", "f 2999ms g", "1000ms (sS) 1596ms (tT)"},
		{"a second failure while resetting changes nothing", "f 1499ms f 4000ms L", "1000ms (sS) 1596ms (tT) 2556ms (uU)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marbletest.Run(t, func(m *marbletest.M) {
				marbletest.ExpectEpic(m, epic, marbletest.EpicCase[reducers.Pool]{Input: c.input, Values: v, State: loggedIn("b1"), Expected: c.want, For: time.Minute})
			})
		})
	}
}

func TestResetBackoffIsCapped(t *testing.T) {
	cfg := noJitter(epics.Config{Backoff: epics.Backoff{Initial: time.Second, Factor: 2, Max: 3 * time.Second}})
	fake := newFake("b1")
	epic := epics.Reset(cfg, epics.Deps{Puppet: func(string) (puppet.Puppet, bool) { return fake, true }})
	v := marbletest.Values{
		"f": actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "silent"}),
		"L": actions.Login.New(actions.LoginPayload{Bot: "b1"}),
	}
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second} {
		s, S := reset(i+1, d)
		v[string(rune('a'+i))], v[string(rune('A'+i))] = s, S
	}
	marbletest.Run(t, func(m *marbletest.M) {
		// Attempts at 1, 3, 6, 9, 12 s: 1 s, 2 s, then capped at 3 s.
		marbletest.ExpectEpic(m, epic, marbletest.EpicCase[reducers.Pool]{
			Input:    "f 12500ms L",
			Values:   v,
			State:    loggedIn("b1"),
			Expected: "1000ms (aA) 1996ms (bB) 2996ms (cC) 2996ms (dD) 2996ms (eE)",
			For:      time.Minute,
		})
	})
}

// PoolHealth and Send need the state the reducers produce: tested through
// a whole store.
func TestPoolHealthMarbles(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		initial := reducers.PoolReducer(reducers.Pool{}, actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1"}))
		st, err := store.New(reducers.PoolReducer, initial, store.WithEpic("health", epics.PoolHealth()))
		if err != nil {
			t.Fatal(err)
		}
		v := marbletest.Values{
			"a": actions.Login.New(actions.LoginPayload{Bot: "b1"}),
			"b": actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "x"}),
			"F": actions.PoolFailed.New(actions.Empty{}),
			"R": actions.PoolRecovered.New(actions.Empty{}),
		}
		marbletest.ExpectStore(m, st, marbletest.StoreCase{Dispatch: "a--b----a", Values: v, Expected: "a--(bF)-(aR)"})
	})
}

func TestSendMarbles(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		initial := reducers.Pool{}
		for _, b := range []string{"b1", "b2"} {
			initial = reducers.PoolReducer(initial, actions.BotAdded.New(actions.BotAddedPayload{Bot: b}))
			initial = reducers.PoolReducer(initial, actions.Login.New(actions.LoginPayload{Bot: b}))
		}
		fakes := map[string]*fakePuppet{"b1": newFake("b1"), "b2": newFake("b2")}
		fakes["b1"].sayErr = func(string) error { return puppet.ErrNotSent }
		var st *store.Store[reducers.Pool]
		deps := epics.Deps{
			Puppet:   func(b string) (puppet.Puppet, bool) { p, ok := fakes[b]; return p, ok },
			Dispatch: func(a actions.Action) error { return st.Dispatch(a) },
		}
		st, err := store.New(reducers.PoolReducer, initial, store.WithEpic("send", epics.Send(epics.Config{}, deps)))
		if err != nil {
			t.Fatal(err)
		}
		v := marbletest.Values{
			"s": actions.SendRequested.New(actions.SendPayload{ID: "s1", To: "alice", Text: "hi"}),
			"1": actions.SendRouted.New(actions.RoutePayload{ID: "s1", Bot: "b1", Attempt: 1}),
			"x": actions.SendResult.New(actions.SendResultPayload{ID: "s1", Bot: "b1", Attempt: 1, Outcome: reducers.OutcomeNotSent, Error: "puppet: not sent"}),
			"2": actions.SendRouted.New(actions.RoutePayload{ID: "s1", Bot: "b2", Attempt: 2}),
			"y": actions.SendResult.New(actions.SendResultPayload{ID: "s1", Bot: "b2", Attempt: 2, Outcome: reducers.OutcomeDelivered}),
			"D": actions.SendDone.New(actions.SendDonePayload{ID: "s1", Bot: "b2", Attempts: 2, Outcome: reducers.OutcomeDelivered}),
		}
		// Everything in one frame: route, fail, route again, deliver, done.
		marbletest.ExpectStore(m, st, marbletest.StoreCase{Dispatch: "s", Values: v, Expected: "(s1x2yD)"})
	})
}
