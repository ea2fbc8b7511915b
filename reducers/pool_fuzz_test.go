package reducers_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// version is a pool the reducer was given, and its description then.
type version struct {
	s    reducers.Pool
	desc string
}

// fuzzConfig derives a Config from one byte: small windows and thresholds
// so that a short input reaches them.
func fuzzConfig(b byte) reducers.Config {
	cfg := exact()
	if b&1 != 0 {
		cfg.DingJitter, cfg.Backoff = 1.0/6, reducers.DefaultBackoff
	}
	cfg.WaitForBot = b&2 != 0
	cfg.Affinity = b&4 != 0
	cfg.EjectAfter = 1 + int(b>>3)%3
	cfg.DedupeSize = 2 + int(b>>5)%3
	cfg.DedupeWindow = 30 * time.Second
	cfg.Seed = uint64(b)
	return cfg
}

// fuzzRun is one run of the reducer over actions decoded from fuzz bytes.
// Many actions are derived from the state, as the epics would make them:
// the clock's bot/DUE for the earliest deadline, the result of an attempt
// in flight, the end of a running reset; others are arbitrary, stale or
// about unknown bots.
type fuzzRun struct {
	t       *testing.T
	w       *world
	history []version
	desc    string                     // frozen(w.s)
	sends   int                        // sends requested so far
	ended   map[string]actions.Outcome // how each send ended
}

var fuzzBots = []string{"b0", "b1", "b2", "b3", "b4"}

func (f *fuzzRun) bot(arg byte) string { return fuzzBots[int(arg)%len(fuzzBots)] }

// pick returns the arg-th key of a table (modulo its length), or "".
func pick[V any](t reducers.Table[V], arg byte) string {
	if t.Len() == 0 {
		return ""
	}
	return t.Keys()[int(arg)%t.Len()]
}

// action decodes one operation; ok is false for an operation that only
// moves time, or has nothing to act on.
func (f *fuzzRun) action(op, arg byte) (actions.Action, bool) {
	s := f.w.s
	bot := f.bot(arg)
	switch op % 20 {
	case 0:
		return added(bot), true
	case 1:
		return removed(bot), true
	case 2:
		return actions.Login.New(actions.LoginPayload{Bot: bot, Self: fmt.Sprintf("acct%d", arg>>4%4)}), true
	case 3:
		return logout(bot), true
	case 4:
		return scan(bot), true
	case 5:
		from := []string{"carol", "acct0", "acct1", "dave"}[arg>>3%4]
		room := []string{"", "r0", "r1", "r0"}[arg>>5%4]
		id := fmt.Sprintf("m%d", arg>>4%8)
		if arg>>4%8 == 7 {
			id = "" // always new
		}
		return message(bot, id, from, room), true
	case 6:
		return heartbeat(bot), true
	case 7:
		return dong(bot), true
	case 8:
		return failed(bot, "operator"), true
	case 9:
		var rs []string
		for i, r := range []string{"r0", "r1", "r2"} {
			if arg>>(3+i)&1 != 0 {
				rs = append(rs, r)
			}
		}
		if arg&128 != 0 { // contacts instead
			rs = rs[:0]
			for i, c := range []string{"alice", "bob", reducers.DefaultHeartbeatContact} {
				if arg>>(3+i)&1 != 0 {
					rs = append(rs, c)
				}
			}
			return contacts(bot, rs...), true
		}
		return rooms(bot, rs...), true
	case 10, 11: // the clock
		at, b, ok := s.Deadlines.Min()
		if !ok {
			return actions.Action{}, false
		}
		if d := at.Sub(t0); d > f.w.now {
			f.w.now = d
		}
		if arg%8 == 0 {
			f.w.now += time.Duration(arg) * time.Millisecond // the clock is late
		}
		return actions.Due.New(actions.DuePayload{Bot: b, At: at}), true
	case 12: // a reset ends, or a stale report of one
		b, ok := s.Bots.Get(bot)
		if !ok {
			return actions.Action{}, false
		}
		attempt := b.Reset
		if arg&8 != 0 {
			attempt = int(arg>>4) % 3
		}
		e := ""
		if arg&16 != 0 {
			e = "boom"
		}
		return resetDone(bot, attempt, e), true
	case 13:
		f.sends++
		to := []string{"alice", "r0", "r1", "bob"}[arg%4]
		a := requested(fmt.Sprintf("s%d", f.sends), to)
		if arg&4 != 0 { // collected as it ends, as Say's are
			p, _ := actions.SendRequested.Match(a)
			p.Collect = true
			a = actions.SendRequested.New(p)
		}
		return a, true
	case 14, 15: // an attempt in flight ends
		id := pick(s.Sends, arg)
		if id == "" {
			return actions.Action{}, false
		}
		sd, _ := s.Sends.Get(id)
		p := actions.SendResultPayload{ID: id, Bot: sd.Bot, Attempt: sd.Attempt,
			Outcome:    []actions.Outcome{actions.Delivered, actions.NotSent, actions.Unknown, actions.Permanent, actions.Unreachable}[int(arg>>2)%5],
			CallerGone: arg&64 != 0 && sd.Canceled}
		if arg&128 != 0 { // stale: another attempt or bot
			p.Attempt--
			p.Bot = f.bot(arg >> 3)
		}
		return actions.SendResult.New(p), true
	case 16:
		return retry(pick(s.Sends, arg)), true
	case 17:
		return canceled(pick(s.Sends, arg)), true
	case 18:
		return collected(pick(s.Sends, arg)), true
	case 19:
		switch arg % 4 {
		case 0:
			f.w.now += time.Duration(arg) * time.Second
			return actions.Action{}, false
		case 1:
			return actions.Due.New(actions.DuePayload{Bot: bot, At: t0.Add(time.Duration(arg) * time.Second)}), true
		case 2:
			return actions.MessageAccepted.New(actions.MessagePayload{MessageID: "x"}), true
		default:
			return actions.Replaced.New(actions.ReplacedPayload{Prev: s}), true
		}
	}
	return actions.Action{}, false
}

// frozen describes a pool completely, derived fields included, to tell
// whether anything wrote it.
func frozen(t testing.TB, s reducers.Pool) string {
	return mustJSON(t, s) + fmt.Sprint(entries(s.Avail), maps.Collect(s.Selves.All()), deadlines(s.Deadlines), s.Cursor, s.Available)
}

// step reduces a and checks everything that must hold across one step.
func (f *fuzzRun) step(a actions.Action) {
	t, w := f.t, f.w
	t.Helper()
	prev := w.s
	before := f.desc
	minAt, minBot, _ := prev.Deadlines.Min()
	a = w.do(a) // checks the pool's invariants
	s := w.s
	if after := frozen(t, prev); after != before {
		t.Fatalf("%s wrote the pool it was given:\nbefore %s\nafter  %s", a, before, after)
	}
	if p, ok := actions.Due.Match(a); ok && p.At.Equal(minAt) && p.Bot == minBot {
		if at, bot, _ := s.Deadlines.Min(); at.Equal(minAt) && bot == minBot {
			t.Fatalf("the clock would spin: %s left %s due at %v", a, minBot, minAt)
		}
	}
	// Each send ends once, and only an ended, waiting or orphan send is
	// forgotten.
	for id, sd := range s.Sends.All() {
		o, wasDone := f.ended[id]
		switch {
		case wasDone && sd.Outcome != o:
			t.Fatalf("%s: send %s ended %v, now %v", a, id, o, sd.Outcome)
		case sd.Outcome.Done():
			f.ended[id] = sd.Outcome
		}
	}
	for id, old := range prev.Sends.All() {
		if s.Sends.Has(id) {
			continue
		}
		switch {
		case old.Collect && s.Ended != prev.Ended && s.Ended.ID == id:
			// Ended and forgotten at once: Ended is how it ended (checked
			// below).
		case actions.SendCollected.Is(a) && (old.Outcome.Done() || old.Waiting):
		case actions.SendResult.Is(a) && old.Orphan:
			f.ended[id] = actions.Canceled // forgotten: it must not come back
		default:
			t.Fatalf("%s: send %s lost: %+v", a, id, *old)
		}
	}
	// A send collected as it ends leaves Sends with its end in Ended, in
	// the action about it that ended it.
	if e := s.Ended; e != prev.Ended {
		switch {
		case e == nil || actions.SendOf(a) != e.ID || !e.Collect || !e.Outcome.Done() || s.Sends.Has(e.ID):
			t.Fatalf("%s: Ended became %+v", a, e)
		case f.ended[e.ID] != 0:
			t.Fatalf("%s: send %s ended twice: %v, then %v", a, e.ID, f.ended[e.ID], e.Outcome)
		}
		f.ended[e.ID] = e.Outcome
	}
	// JSON hands the same pool over.
	f.desc = frozen(t, s)
	data := mustJSON(t, s)
	var back reducers.Pool
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, data)
	}
	if again := mustJSON(t, back); again != data {
		t.Fatalf("JSON round trip:\n%s\n%s", data, again)
	}
	if err := checkPool(w.cfg, back); err != nil {
		t.Fatalf("after the JSON round trip: %v", err)
	}
	if !slices.Equal(deadlines(back.Deadlines), deadlines(s.Deadlines)) {
		t.Fatalf("deadlines after the JSON round trip: %v, want %v", deadlines(back.Deadlines), deadlines(s.Deadlines))
	}
	if got, want := fmt.Sprint(reducers.NextBot(back, "alice", nil)), fmt.Sprint(reducers.NextBot(s, "alice", nil)); got != want {
		t.Fatalf("after the JSON round trip the next bot is %s, want %s", got, want)
	}
	f.history = append(f.history, version{prev, before})
}

// FuzzPoolReducer reduces random action sequences and checks, after every
// action: the pool's invariants (Avail, Available, Selves, Deadlines
// consistent with a pool rebuilt from Bots; every Due in Deadlines and
// never after the bot's real deadline; no send both waiting and routed;
// the queue holds exactly the waiting sends; rooms; the dedupe window);
// that the reducer did not write the pool it was given (derived fields
// included); that each send ends once; that a bot/DUE at the earliest
// deadline moves it; and that the JSON round trip gives the same pool.
// Branches (a reduction of an old version, as after time travel) are
// checked the same way, and must not disturb the newest version.
func FuzzPoolReducer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 2, 2, 0, 2, 1, 9, 8, 9, 9, 13, 0, 14, 4, 14, 5, 14, 5, 8, 1, 7, 1, 10, 0, 10, 0, 1, 1})
	f.Add([]byte{6, 0, 3, 0, 4, 2, 3, 2, 4, 2, 2, 3, 2, 10, 0, 10, 0, 10, 0, 12, 0, 10, 0, 2, 0, 1, 3, 0, 3})
	f.Add([]byte{2, 0, 0, 0, 1, 13, 0, 13, 1, 2, 0, 16, 0, 16, 1, 14, 0, 17, 1, 18, 1, 18, 0, 14, 4, 14, 64})
	f.Add([]byte{1, 0, 0, 0, 1, 2, 0, 2, 17, 5, 0, 5, 1, 5, 16, 5, 32, 5, 48, 19, 40, 5, 64, 5, 80, 5, 0, 19, 0})
	f.Add([]byte{4, 0, 0, 0, 1, 0, 2, 2, 0, 2, 1, 2, 2, 13, 0, 13, 1, 13, 2, 13, 3, 14, 4, 14, 132, 19, 3, 1, 1, 14, 0})
	f.Fuzz(fuzzPool)
}

func fuzzPool(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	w := newWorld(t, fuzzConfig(data[0]))
	run := &fuzzRun{t: t, w: w, ended: map[string]actions.Outcome{}, desc: frozen(t, w.s)}
	ops := data[1:]
	for i := 0; i+1 < len(ops) && i < 400; i += 2 {
		op, arg := ops[i], ops[i+1]
		if op >= 240 && len(run.history) > 0 {
			// A branch: reduce on an old version, then go on with the
			// newest, which must not have changed.
			old := run.history[int(arg)%len(run.history)].s
			cur, curDesc, oldDesc := w.s, frozen(t, w.s), frozen(t, old)
			a, ok := run.action(op, arg>>1)
			if !ok {
				continue
			}
			a.Meta.Time, a.Meta.Seq = t0.Add(w.now), w.seq+1000
			if err := checkPool(w.cfg, w.r(old, a)); err != nil {
				t.Fatalf("branch: %s on version %d: %v", a, int(arg)%len(run.history), err)
			}
			if frozen(t, old) != oldDesc || frozen(t, cur) != curDesc {
				t.Fatalf("branch: %s wrote a version it was not given", a)
			}
			continue
		}
		if a, ok := run.action(op, arg); ok {
			run.step(a)
		}
	}
	for i, h := range run.history {
		if got := frozen(t, h.s); got != h.desc {
			t.Fatalf("version %d was written since:\nthen %s\nnow  %s", i, h.desc, got)
		}
	}
}
