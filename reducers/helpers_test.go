package reducers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// t0 is time zero of every test timeline.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// exact is a Config whose timings have no jitter, so that timelines are
// exact: the first ding at 60 s, then every 20 s, failure at 120 s, resets
// after 1, 2, 4, 8, 8 … s. (A DingJitter of 0 means the default; 1e-17
// is below float64's resolution around 1, so the factor is exactly 1.)
func exact() reducers.Config {
	return reducers.Config{
		DingJitter: 1e-17,
		Backoff:    reducers.Backoff{Initial: time.Second, Factor: 2, Max: 8 * time.Second},
	}.Defaults()
}

// world reduces actions as a store would: each with the next Seq and a
// time stamp, and checks the pool's invariants after every one.
type world struct {
	t   testing.TB
	cfg reducers.Config
	r   reducers.Reducer[reducers.Pool]
	s   reducers.Pool
	seq uint64
	now time.Duration // since t0
}

func newWorld(t testing.TB, cfg reducers.Config) *world {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return &world{t: t, cfg: cfg, r: cfg.Reducer()}
}

// do reduces a at the world's time and returns it as stamped.
func (w *world) do(a actions.Action) actions.Action {
	w.t.Helper()
	w.seq++
	a.Meta.Time, a.Meta.Seq = t0.Add(w.now), w.seq
	w.s = w.r(w.s, a)
	if err := checkPool(w.cfg, w.s); err != nil {
		w.t.Fatalf("after %s at %v: %v", a, w.now, err)
	}
	return a
}

// at moves the world's time to d (never back) and reduces a.
func (w *world) at(d time.Duration, a actions.Action) actions.Action {
	w.t.Helper()
	if d < w.now {
		w.t.Fatalf("at %v: time is %v already", d, w.now)
	}
	w.now = d
	return w.do(a)
}

// tick runs the clock as the Clock epic does, up to the time to: while
// the earliest deadline is not after to, time moves to it and a bot/DUE
// for it is reduced. fn, if not nil, sees each DUE once reduced, with the
// pool before it.
func (w *world) tick(to time.Duration, fn func(before reducers.Pool, a actions.Action)) {
	w.t.Helper()
	for range 100_000 {
		at, bot, ok := w.s.Deadlines.Min()
		if !ok || at.After(t0.Add(to)) {
			w.now = max(w.now, to)
			return
		}
		w.now = max(w.now, at.Sub(t0))
		before := w.s
		a := w.do(actions.Due.New(actions.DuePayload{Bot: bot, At: at}))
		if d, _, _ := w.s.Deadlines.Min(); d.Equal(at) && w.s.Deadlines == before.Deadlines {
			w.t.Fatalf("the clock spins: bot/DUE %s at %v left the deadlines as they were", bot, at.Sub(t0))
		}
		if fn != nil {
			fn(before, a)
		}
	}
	w.t.Fatalf("tick to %v: too many deadlines", to)
}

func (w *world) bot(id string) reducers.Bot {
	w.t.Helper()
	b, ok := w.s.Bots.Get(id)
	if !ok {
		w.t.Fatalf("no bot %q", id)
	}
	return *b
}

func (w *world) send(id string) reducers.Send {
	w.t.Helper()
	sd, ok := w.s.Sends.Get(id)
	if !ok {
		w.t.Fatalf("no send %q", id)
	}
	return *sd
}

// Action builders, short enough for tables.

func added(bot string) actions.Action {
	return actions.BotAdded.New(actions.BotAddedPayload{Bot: bot, Puppet: "mock"})
}
func removed(bot string) actions.Action { return actions.BotRemoved.New(actions.BotPayload{Bot: bot}) }
func login(bot string) actions.Action {
	return actions.Login.New(actions.LoginPayload{Bot: bot, Self: "self-" + bot})
}
func logout(bot string) actions.Action {
	return actions.Logout.New(actions.ReasonPayload{Bot: bot, Reason: "kicked"})
}
func scan(bot string) actions.Action      { return actions.Scan.New(actions.ScanPayload{Bot: bot}) }
func heartbeat(bot string) actions.Action { return actions.Heartbeat.New(actions.BotPayload{Bot: bot}) }
func dong(bot string) actions.Action      { return actions.Dong.New(actions.BotPayload{Bot: bot}) }
func failed(bot, reason string) actions.Action {
	return actions.BotFailed.New(actions.ReasonPayload{Bot: bot, Reason: reason})
}
func rooms(bot string, ids ...string) actions.Action {
	return actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: ids})
}
func message(bot, id, from, room string) actions.Action {
	return actions.Message.New(actions.MessagePayload{Bot: bot, MessageID: id, From: from, Room: room, Text: "hi"})
}
func resetDone(bot string, attempt int, err string) actions.Action {
	return actions.ResetDone.New(actions.ResetPayload{Bot: bot, Attempt: attempt, Error: err})
}
func requested(id, to string) actions.Action {
	return actions.SendRequested.New(actions.SendPayload{ID: id, To: to, Text: "hello"})
}
func result(id, bot string, attempt int, o actions.Outcome) actions.Action {
	return actions.SendResult.New(actions.SendResultPayload{ID: id, Bot: bot, Attempt: attempt, Outcome: o})
}
func retry(id string) actions.Action { return actions.SendRetry.New(actions.SendIDPayload{ID: id}) }
func canceled(id string) actions.Action {
	return actions.SendCanceled.New(actions.SendIDPayload{ID: id})
}
func collected(id string) actions.Action {
	return actions.SendCollected.New(actions.SendIDPayload{ID: id})
}

// checkPool checks what must hold of every pool the reducer returns.
func checkPool(cfg reducers.Config, s reducers.Pool) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	// The derived fields agree with a pool rebuilt from Bots.
	r := reducers.Rebuilt(s)
	if got, want := entries(s.Avail), entries(r.Avail); !slices.Equal(got, want) {
		bad("Avail %v, rebuilt %v", got, want)
	}
	if s.Available != r.Available {
		bad("Available %d, rebuilt %d", s.Available, r.Available)
	}
	if got, want := maps.Collect(s.Selves.All()), maps.Collect(r.Selves.All()); !maps.Equal(got, want) {
		bad("Selves %v, rebuilt %v", got, want)
	}
	if got, want := deadlines(s.Deadlines), deadlines(r.Deadlines); !slices.Equal(got, want) || s.Deadlines.Len() != r.Deadlines.Len() {
		bad("Deadlines %v (len %d), rebuilt %v", got, s.Deadlines.Len(), want)
	}
	if s.Down != (s.EverUp && s.Available == 0) {
		bad("Down %v with EverUp %v and %d available", s.Down, s.EverUp, s.Available)
	}

	if s.Sent.Len() != s.Bots.Len() || s.Sent.Slots() != s.Bots.Slots() {
		bad("Sent has %d bots in %d slots, Bots %d in %d", s.Sent.Len(), s.Sent.Slots(), s.Bots.Len(), s.Bots.Slots())
	}
	for id, b := range s.Bots.All() {
		if b.ID != id {
			bad("bot %q has the ID %q", id, b.ID)
		}
		if s.Avail.Position(id) != s.Bots.Position(id) || s.Sent.Position(id) != s.Bots.Position(id) {
			bad("bot %q at %d in Bots, %d in Avail, %d in Sent", id, s.Bots.Position(id), s.Avail.Position(id), s.Sent.Position(id))
		}
		if b.Available && (!b.LoggedIn || b.Phase != reducers.Watching) {
			bad("bot %q available while logged in %v, %v", id, b.LoggedIn, b.Phase)
		}
		next := cfg.NextDeadline(b)
		if b.Due.IsZero() != next.IsZero() || b.Due.After(next) {
			bad("bot %q is due at %v, its next deadline is %v", id, b.Due, next)
		}
		if b.Dings > 0 && b.NextDing.IsZero() {
			bad("bot %q had %d dings and has no next one", id, b.Dings)
		}
	}
	for room, members := range s.Rooms.All() {
		if len(members) == 0 {
			bad("room %q has no members", room)
		}
		for i, m := range members {
			if !s.Bots.Has(m) {
				bad("room %q lists %q, not in the pool", room, m)
			}
			if i > 0 && s.Bots.Position(members[i-1]) >= s.Bots.Position(m) {
				bad("room %q: members %v not in pool order", room, members)
			}
		}
	}
	for id, sd := range s.Sends.All() {
		if sd.ID != id {
			bad("send %q has the ID %q", id, sd.ID)
		}
		if sd.Waiting {
			if sd.Bot != "" || sd.Attempt != 0 || sd.RoutedBy != 0 || sd.Outcome.Done() {
				bad("send %q waits and is routed: %+v", id, *sd)
			}
			if !s.Queue.Has(id) {
				bad("send %q waits outside the queue", id)
			}
		}
		if sd.Outcome.Done() && sd.RoutedBy != 0 {
			bad("send %q ended (%v) with an attempt to make", id, sd.Outcome)
		}
		if sd.Orphan && sd.Outcome.Done() {
			bad("orphan send %q kept after it ended", id)
		}
		if sd.Attempt > 0 && sd.Bot == "" {
			bad("send %q: attempt %d without a bot", id, sd.Attempt)
		}
	}
	for id := range s.Queue.All() {
		if sd, ok := s.Sends.Get(id); !ok || !sd.Waiting {
			bad("queued send %q does not wait", id)
		}
	}
	if n := s.Seen.Len(); n > 8*cfg.DedupeSize {
		bad("%d message IDs remembered, over 8×%d", n, cfg.DedupeSize)
	}
	for k := range s.Seen.All() {
		if s.SeenOld.Has(k) {
			bad("message %q in both halves of the dedupe window", k)
		}
	}
	return errors.Join(errs...)
}

func entries[V any](t reducers.Table[V]) []string {
	var out []string
	for k, v := range t.All() {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	return out
}

func deadlines(d reducers.Deadlines) []string {
	var out []string
	for t, bot := range d.Ascend() {
		out = append(out, fmt.Sprintf("%s@%d", bot, t.UnixNano()))
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
