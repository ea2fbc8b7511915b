package epics_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exact is a Config without jitter, so that timelines are exact: the
// first ding at 60 s, then every 20 s, failure at 120 s, resets after 1,
// 2, 4, 8, 8 … s, send attempts and resets bounded by 30 s. (A DingJitter
// of 0 means the default; 1e-17 is below float64's resolution around 1.)
func exact() epics.Config {
	return epics.Config{
		DingJitter: 1e-17,
		Backoff:    epics.Backoff{Initial: time.Second, Factor: 2, Max: 8 * time.Second},
	}.Defaults()
}

// fakePuppet records its calls with the virtual time they were made at.
// Its behaviour is set by functions, each nil for "return nil at once".
type fakePuppet struct {
	name  string
	start time.Time // the rig's time zero

	mu      sync.Mutex
	calls   []string
	say     func(ctx context.Context, to, text string) error
	onStop  func(ctx context.Context) error
	onStart func(ctx context.Context) error
	rooms   []puppet.Room
	events  chan puppet.Event
}

func (f *fakePuppet) record(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%v %s", time.Since(f.start), what))
}

// Calls returns the calls so far: "<virtual time> <call>".
func (f *fakePuppet) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// set changes the puppet's behaviour under its lock.
func (f *fakePuppet) set(fn func(f *fakePuppet)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakePuppet) Name() string                { return f.name }
func (f *fakePuppet) Events() <-chan puppet.Event { return f.events }
func (f *fakePuppet) Close() error                { return nil }
func (f *fakePuppet) Contacts(context.Context) ([]puppet.Contact, error) {
	f.record("contacts")
	return nil, nil
}

func (f *fakePuppet) Rooms(context.Context) ([]puppet.Room, error) {
	f.record("rooms")
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.rooms), nil
}

func (f *fakePuppet) Say(ctx context.Context, to, text string) error {
	f.record("say " + to + ":" + text)
	f.mu.Lock()
	say := f.say
	f.mu.Unlock()
	if say == nil {
		return nil
	}
	return say(ctx, to, text)
}

func (f *fakePuppet) Stop(ctx context.Context) error {
	f.record("stop")
	f.mu.Lock()
	fn := f.onStop
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(ctx)
}

func (f *fakePuppet) Start(ctx context.Context) error {
	f.record("start")
	f.mu.Lock()
	fn := f.onStart
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(ctx)
}

// dinger is a fake puppet with a protocol-level ding.
type dinger struct {
	*fakePuppet
}

func (d dinger) Ding(context.Context, string) error {
	d.record("ding")
	return nil
}

// rig is a real store with the pool's reducer and its two epics, Clock and
// Effect with every handler, driving fake puppets, inside a synctest
// bubble.
type rig struct {
	t     testing.TB
	cfg   epics.Config
	st    *store.Store[reducers.Pool]
	sub   *store.Subscription[reducers.Pool]
	start time.Time

	mu        sync.Mutex
	puppets   map[string]puppet.Puppet
	fakes     map[string]*fakePuppet
	delivered []string
	release   chan struct{} // closed at stop: frees puppets that ignore their context
}

func identity(s reducers.Pool) reducers.Pool { return s }

// newRig starts a store; each bot is added and logged in at time zero.
func newRig(t testing.TB, cfg epics.Config, bots ...string) *rig {
	t.Helper()
	r := startRig(t, cfg, func(cfg epics.Config, deps epics.Deps) []epics.Handler {
		return []epics.Handler{epics.Ding(cfg, deps), epics.Reset(cfg, deps), epics.Rooms(cfg, deps),
			epics.Send(cfg, deps), epics.Health(), epics.Inbox(deps)}
	}, nil)
	for _, b := range bots {
		r.add(b)
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: "self-" + b}))
	}
	synctest.Wait()
	return r
}

// startRig starts a rig with no bot: a store with the pool's reducer,
// Clock, and Effect with handlers(cfg, deps), where deps finds the rig's
// puppets and records deliveries, and with (when not nil) adds to deps.
func startRig(t testing.TB, cfg epics.Config, handlers func(epics.Config, epics.Deps) []epics.Handler, with func(*epics.Deps)) *rig {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, cfg: cfg, start: time.Now(), puppets: map[string]puppet.Puppet{}, fakes: map[string]*fakePuppet{},
		release: make(chan struct{})}
	deps := epics.Deps{
		Puppet: func(b string) (puppet.Puppet, bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			p, ok := r.puppets[b]
			return p, ok
		},
		Deliver: func(m actions.MessagePayload) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.delivered = append(r.delivered, m.Bot+":"+m.MessageID)
		},
	}
	if with != nil {
		with(&deps)
	}
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithEpic("clock", epics.Clock(identity)),
		store.WithEpic("effects", epics.Effect(identity, handlers(cfg, deps)...)))
	if err != nil {
		t.Fatal(err)
	}
	r.st, r.sub = st, st.Subscribe(1<<20)
	if err := st.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// add puts a fake puppet in the pool as bot, not logged in.
func (r *rig) add(bot string) *fakePuppet {
	f := &fakePuppet{name: bot, start: r.start, events: make(chan puppet.Event)}
	r.addPuppet(bot, f, f)
	return f
}

func (r *rig) addPuppet(bot string, p puppet.Puppet, f *fakePuppet) {
	r.mu.Lock()
	r.puppets[bot], r.fakes[bot] = p, f
	r.mu.Unlock()
	r.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: bot, Puppet: "fake"}))
}

func (r *rig) fake(bot string) *fakePuppet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fakes[bot]
}

// answer makes bot's puppet answer dings with a dong, as the heartbeat
// contact does (the facade translates its "dong" into bot/DONG).
func (r *rig) answer(bot string) {
	r.fake(bot).set(func(f *fakePuppet) {
		f.say = func(_ context.Context, to, text string) error {
			if to == r.cfg.HeartbeatContact && text == "ding" {
				return r.st.Dispatch(actions.Dong.New(actions.BotPayload{Bot: bot}))
			}
			return nil
		}
	})
}

// deaf is a puppet call that ignores its context: it returns only when
// the rig stops.
func (r *rig) deaf(context.Context) error {
	<-r.release
	return nil
}

func (r *rig) dispatch(a actions.Action) {
	r.t.Helper()
	if err := r.st.Dispatch(a); err != nil {
		r.t.Fatalf("dispatch %s: %v", a.Type, err)
	}
}

// sleep lets virtual time run d, and the bubble settle.
func (r *rig) sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// until lets virtual time run to d since the rig started.
func (r *rig) until(d time.Duration) {
	if left := d - time.Since(r.start); left > 0 {
		time.Sleep(left)
	}
	synctest.Wait()
}

func (r *rig) stop() {
	close(r.release)
	r.st.Stop()
}

// changes returns the changes since the last call.
func (r *rig) changes() []store.Change[reducers.Pool] {
	var out []store.Change[reducers.Pool]
	for {
		select {
		case c, ok := <-r.sub.C():
			if !ok {
				return out
			}
			out = append(out, c)
		default:
			return out
		}
	}
}

// log returns "<time> <type> <payload>" for the actions of the given types
// reduced since the last call (all types when none is given).
func (r *rig) log(types ...string) []string {
	var out []string
	for _, c := range r.changes() {
		if len(types) == 0 || slices.Contains(types, c.Action.Type) {
			out = append(out, fmt.Sprintf("%v %s %s", c.Action.Meta.Time.Sub(r.start), c.Action.Type, describe(c.Action.Payload)))
		}
	}
	return out
}

func describe(p any) string {
	switch p := p.(type) {
	case actions.DingPayload:
		s := fmt.Sprintf("%s #%d", p.Bot, p.Attempt)
		if p.Error != "" {
			s += " error: " + p.Error
		}
		return s
	case actions.ReasonPayload:
		return fmt.Sprintf("%s (%s)", p.Bot, p.Reason)
	case actions.ResetPayload:
		s := fmt.Sprintf("%s #%d", p.Bot, p.Attempt)
		if p.Error != "" {
			s += " error: " + p.Error
		}
		return s
	case actions.BotPayload:
		return p.Bot
	case actions.BotAddedPayload:
		return p.Bot
	case actions.LoginPayload:
		return p.Bot
	case actions.DuePayload:
		return p.Bot
	case actions.RoomsPayload:
		return fmt.Sprintf("%s %v", p.Bot, p.Rooms)
	case actions.MessagePayload:
		return fmt.Sprintf("%s %s", p.Bot, p.MessageID)
	case actions.SendPayload:
		return fmt.Sprintf("%s to %s", p.ID, p.To)
	case actions.SendIDPayload:
		return p.ID
	case actions.SendResultPayload:
		s := fmt.Sprintf("%s via %s #%d: %s", p.ID, p.Bot, p.Attempt, p.Outcome)
		if p.CallerGone {
			s += " (caller gone)"
		}
		return s
	case actions.Empty:
		return ""
	}
	return fmt.Sprintf("%+v", p)
}

// sendOf returns the send id in the latest state.
func (r *rig) sendOf(id string) reducers.Send {
	r.t.Helper()
	sd, ok := r.st.State().Sends.Get(id)
	if !ok {
		r.t.Fatalf("no send %q", id)
	}
	return *sd
}

func (r *rig) botOf(id string) reducers.Bot {
	r.t.Helper()
	b, ok := r.st.State().Bots.Get(id)
	if !ok {
		r.t.Fatalf("no bot %q", id)
	}
	return *b
}

func (r *rig) deliveredSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.delivered)
}

// say requests a send and returns its id.
func (r *rig) say(id, to string) {
	r.t.Helper()
	r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: to, Text: "hello"}))
}
