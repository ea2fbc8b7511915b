package reducers_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// TestStories runs the stories in testdata/: each command reduces actions
// with the pure reducer, as a store would, and prints what the reducer
// decided (the effects it asks for, the flips, the ends of sends).
// "tick to=…" plays the clock: every deadline up to then becomes a
// bot/DUE at its time. Regenerate with -rewrite, and commit the changes
// only when you understand what caused them.
//
// Commands (every one takes at=<duration since t0> to set the time first):
//
//	config [jitter] [seed=N] [wait-for-bot] [affinity] [eject-after=N]
//	       [dedupe-size=N] [dedupe-window=D] [scan-timeout=D] [rate=N/D/B]
//	contacts B C… · befriend|unfriend B contact=C
//	add|remove|login|logout|scan|heartbeat|dong B…   (login: [self=S])
//	fail B reason=R · rooms B R… · reset-done B attempt=N [error=E]
//	message B id=M from=F [room=R]
//	send S to=T · result S bot=B attempt=N outcome=O [caller-gone]
//	retry|cancel|collect S
//	tick to=D · state
func TestStories(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		w := newWorld(t, exact())
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			w.t = t
			str := func(key string) string {
				var v string
				if td.HasArg(key) {
					td.ScanArgs(t, key, &v)
				}
				return v
			}
			dur := func(key string) time.Duration {
				d, err := time.ParseDuration(str(key))
				if err != nil {
					td.Fatalf(t, "%s: %v", key, err)
				}
				return d
			}
			num := func(key string) int {
				n, err := strconv.Atoi(str(key))
				if err != nil {
					td.Fatalf(t, "%s: %v", key, err)
				}
				return n
			}
			if td.HasArg("at") {
				if d := dur("at"); d >= w.now {
					w.now = d
				} else {
					td.Fatalf(t, "at=%v: time is %v already", d, w.now)
				}
			}
			var pos []string // positional arguments (no value)
			for _, a := range td.CmdArgs {
				if len(a.Vals) == 0 {
					pos = append(pos, a.Key)
				}
			}
			first := func() string {
				if len(pos) == 0 {
					td.Fatalf(t, "%s: which?", td.Cmd)
				}
				return pos[0]
			}
			var out []string
			do := func(a actions.Action) {
				before := w.s
				a = w.do(a)
				out = append(out, decisions(w, before, a)...)
			}
			switch td.Cmd {
			case "config":
				cfg := exact()
				if td.HasArg("jitter") {
					cfg.DingJitter, cfg.Backoff = 1.0/6, reducers.DefaultBackoff
				}
				if td.HasArg("seed") {
					cfg.Seed = uint64(num("seed"))
				}
				cfg.WaitForBot, cfg.Affinity = td.HasArg("wait-for-bot"), td.HasArg("affinity")
				if td.HasArg("eject-after") {
					cfg.EjectAfter = num("eject-after")
				}
				if td.HasArg("dedupe-size") {
					cfg.DedupeSize = num("dedupe-size")
				}
				if td.HasArg("dedupe-window") {
					cfg.DedupeWindow = dur("dedupe-window")
				}
				if td.HasArg("scan-timeout") {
					cfg.ScanTimeout = dur("scan-timeout")
				}
				if td.HasArg("rate") {
					var n, b int
					var per string
					if _, err := fmt.Sscanf(strings.ReplaceAll(str("rate"), "/", " "), "%d %s %d", &n, &per, &b); err != nil {
						td.Fatalf(t, "rate: %v", err)
					}
					d, err := time.ParseDuration(per)
					if err != nil {
						td.Fatalf(t, "rate: %v", err)
					}
					cfg.RateLimit = reducers.RateLimit{Sends: n, Per: d, Burst: b}
				}
				w = newWorld(t, cfg)
				return fmt.Sprintf("ding after %v (±%.3g) every %v, fail after %v, scan timeout %v, backoff %v ×%v ±%v ≤ %v, eject after %d",
					cfg.DingAfter, cfg.DingJitter, cfg.DingEvery, cfg.FailAfter, cfg.ScanTimeout,
					cfg.Backoff.Initial, cfg.Backoff.Factor, cfg.Backoff.Jitter, cfg.Backoff.Max, cfg.EjectAfter)
			case "add", "remove", "login", "logout", "scan", "heartbeat", "dong":
				for _, b := range pos {
					switch td.Cmd {
					case "add":
						do(added(b))
					case "remove":
						do(removed(b))
					case "login":
						self := "self-" + b
						if td.HasArg("self") {
							self = str("self")
						}
						do(actions.Login.New(actions.LoginPayload{Bot: b, Self: self}))
					case "logout":
						do(logout(b))
					case "scan":
						do(scan(b))
					case "heartbeat":
						do(heartbeat(b))
					case "dong":
						do(dong(b))
					}
				}
			case "fail":
				do(failed(first(), str("reason")))
			case "rooms":
				do(rooms(first(), pos[1:]...))
			case "contacts":
				do(contacts(first(), pos[1:]...))
			case "befriend":
				do(actions.ContactAdded.New(actions.ContactPayload{Bot: first(), Contact: str("contact")}))
			case "unfriend":
				do(actions.ContactRemoved.New(actions.ContactPayload{Bot: first(), Contact: str("contact")}))
			case "reset-done":
				do(resetDone(first(), num("attempt"), str("error")))
			case "message":
				do(message(first(), str("id"), str("from"), str("room")))
			case "send":
				do(requested(first(), str("to")))
			case "result":
				o := outcomeOf(t, td, str("outcome"))
				do(actions.SendResult.New(actions.SendResultPayload{ID: first(), Bot: str("bot"), Attempt: num("attempt"),
					Outcome: o, Error: str("error"), CallerGone: td.HasArg("caller-gone")}))
			case "retry":
				do(retry(first()))
			case "cancel":
				do(canceled(first()))
			case "collect":
				do(collected(first()))
			case "tick":
				w.tick(dur("to"), func(before reducers.Pool, a actions.Action) {
					p, _ := actions.Due.Match(a)
					ds := decisions(w, before, a)
					if len(ds) == 0 {
						b, _ := w.s.Bots.Get(p.Bot)
						ds = []string{"nothing due: next at " + since(b.Due)}
					}
					out = append(out, fmt.Sprintf("%-7s %s due: %s", since(a.Meta.Time), p.Bot, strings.Join(ds, "; ")))
				})
			case "state":
				return describe(w.s)
			default:
				td.Fatalf(t, "unknown command %q", td.Cmd)
			}
			if len(out) == 0 {
				return "(nothing)"
			}
			return strings.Join(out, "\n")
		})
	})
}

var outcomes = map[string]actions.Outcome{
	"delivered": actions.Delivered, "not-sent": actions.NotSent, "unknown": actions.Unknown, "permanent": actions.Permanent,
	"unreachable": actions.Unreachable,
}

func outcomeOf(t *testing.T, td *datadriven.TestData, s string) actions.Outcome {
	o, ok := outcomes[s]
	if !ok {
		td.Fatalf(t, "unknown outcome %q", s)
	}
	return o
}

// since prints a time as the duration since t0, to the millisecond.
func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Sub(t0).Round(time.Millisecond).String()
}

// decisions describes what the reduction of a (whose Seq marks the
// decisions it made) changed from before.
func decisions(w *world, before reducers.Pool, a actions.Action) []string {
	seq, s := a.Meta.Seq, w.s
	var out []string
	for id, b := range s.Bots.All() {
		old, existed := before.Bots.Get(id)
		if !existed {
			out = append(out, fmt.Sprintf("%s added, due at %s", id, since(b.Due)))
		}
		if b.FlipBy == seq {
			if b.Available {
				out = append(out, id+" available")
			} else {
				out = append(out, fmt.Sprintf("%s unavailable (%s)", id, b.Reason))
			}
		}
		if b.Phase == reducers.Failed && existed && old.Phase != reducers.Failed {
			out = append(out, fmt.Sprintf("%s failed (%s), reset #1 at %s", id, b.Reason, since(b.ResetAt)))
		}
		if b.Phase == reducers.Scanning && existed && old.Phase != reducers.Scanning {
			out = append(out, fmt.Sprintf("%s scanning, fails at %s", id, since(w.cfg.NextDeadline(b))))
		}
		if b.DingBy == seq {
			out = append(out, fmt.Sprintf("ding #%d, next at %s", b.Dings, since(b.NextDing)))
		}
		if b.ResetBy == seq {
			out = append(out, fmt.Sprintf("reset #%d", b.Reset))
		}
		if existed && old.Resetting && !b.Resetting && b.Phase == reducers.Failed {
			out = append(out, fmt.Sprintf("%s reset #%d ended, reset #%d at %s", id, b.Reset, b.Reset+1, since(b.ResetAt)))
		}
		if b.RoomsBy == seq {
			out = append(out, "list rooms of "+id)
		}
		if !b.RefillAt.IsZero() && (!existed || !old.RefillAt.Equal(b.RefillAt)) {
			out = append(out, fmt.Sprintf("%s refills at %s", id, since(b.RefillAt)))
		}
		if b.RefillBy == seq {
			out = append(out, id+" refilled")
		}
		if un := s.Unfollowed.Has(id); un != before.Unfollowed.Has(id) {
			out = append(out, fmt.Sprintf("%s follows the heartbeat contact: %v", id, !un))
		}
		if existed && old.Failures != b.Failures {
			out = append(out, fmt.Sprintf("%s failures %d → %d", id, old.Failures, b.Failures))
		}
	}
	for id := range before.Bots.All() {
		if !s.Bots.Has(id) {
			out = append(out, id+" removed")
		}
	}
	if s.DownBy == seq {
		if s.Down {
			out = append(out, "pool down")
		} else {
			out = append(out, "pool up")
		}
	}
	for id, sd := range s.Sends.All() {
		old, existed := before.Sends.Get(id)
		if sd.RoutedBy == seq {
			out = append(out, fmt.Sprintf("%s → %s (attempt %d)", id, sd.Bot, sd.Attempt))
		}
		switch {
		case sd.Throttled && (!existed || !old.Throttled):
			out = append(out, id+" waits for a send budget")
		case sd.Waiting && !sd.Throttled && (!existed || !old.Waiting || old.Throttled):
			out = append(out, id+" waits for a bot")
		}
		if sd.Outcome.Done() && (!existed || !old.Outcome.Done()) {
			e := ""
			if sd.Error != "" {
				e = ": " + sd.Error
			}
			out = append(out, fmt.Sprintf("%s ended %s after %d attempts%s", id, sd.Outcome, sd.Attempt, e))
		}
		if sd.Orphan && (!existed || !old.Orphan) {
			out = append(out, id+" orphaned")
		} else if sd.Canceled && existed && !old.Canceled && !sd.Outcome.Done() {
			out = append(out, id+" canceled")
		}
	}
	for id, old := range before.Sends.All() {
		if !s.Sends.Has(id) {
			what := "forgotten"
			if !old.Outcome.Done() && !old.Waiting {
				what = "ended and forgotten (orphan)"
			}
			out = append(out, id+" "+what)
		}
	}
	if p, ok := actions.Message.Match(a); ok {
		key := reducers.SeenKey(p.MessageID, seq)
		switch {
		case s.AcceptedBy(key) == seq:
			out = append(out, "accepted "+key)
		case s.Selves.Has(p.From):
			out = append(out, "own message "+key)
		case s.Bots.Has(p.Bot):
			out = append(out, "already seen "+key)
		}
		if s.Seen.Len() < before.Seen.Len() {
			out = append(out, fmt.Sprintf("dedupe window turned over: %d IDs old, %d new", s.SeenOld.Len(), s.Seen.Len()))
		}
	}
	return out
}

// describe prints the pool deterministically.
func describe(s reducers.Pool) string {
	var b strings.Builder
	cursor := "-" // the bot round robin looks at first: at or after the cursor, wrapping
	for k := range s.Avail.Slots() {
		if id, _, ok := s.Avail.At((s.Cursor + k) % s.Avail.Slots()); ok {
			cursor = id
			break
		}
	}
	fmt.Fprintf(&b, "pool: %d of %d available, down=%v, delivered=%d, failovers=%d, accepted=%d, cursor at %s\n",
		s.Available, s.Bots.Len(), s.Down, s.Delivered, s.Failovers, s.Accepted, cursor)
	for id, bot := range s.Bots.All() {
		fmt.Fprintf(&b, "%s: %v", id, bot.Phase)
		flag := func(on bool, name string) {
			if on {
				b.WriteString(" " + name)
			}
		}
		field := func(on bool, name string, v any) {
			if on {
				fmt.Fprintf(&b, " %s=%v", name, v)
			}
		}
		flag(bot.Available, "available")
		flag(bot.LoggedIn, "logged-in")
		field(bot.Self != "", "self", bot.Self)
		field(bot.Reason != "", "reason", strconv.Quote(bot.Reason))
		field(true, "lastSeen", since(bot.LastSeen))
		field(true, "due", since(bot.Due))
		field(bot.Dings > 0, "dings", bot.Dings)
		field(!bot.ScanSince.IsZero(), "scanSince", since(bot.ScanSince))
		field(bot.Reset > 0, "reset", bot.Reset)
		flag(bot.Resetting, "resetting")
		field(!bot.ResetAt.IsZero(), "resetAt", since(bot.ResetAt))
		sent, _ := s.Sent.Get(id)
		field(sent > 0, "sent", sent)
		field(bot.Failures > 0, "failures", bot.Failures)
		b.WriteByte('\n')
	}
	for id, members := range s.Rooms.All() {
		fmt.Fprintf(&b, "room %s: %s\n", id, strings.Join(members, " "))
	}
	for id, knowers := range s.Contacts.All() {
		fmt.Fprintf(&b, "contact %s: %s\n", id, strings.Join(knowers, " "))
	}
	for id, bots := range s.Unreachable.All() {
		fmt.Fprintf(&b, "unreachable %s: %s\n", id, strings.Join(bots, " "))
	}
	for id, bot := range s.Sticky.All() {
		fmt.Fprintf(&b, "sticky %s: %s\n", id, bot)
	}
	for id, sd := range s.Sends.All() {
		fmt.Fprintf(&b, "send %s to %s: %v", id, sd.To, sd.Outcome)
		if sd.Bot != "" {
			fmt.Fprintf(&b, " bot=%s attempt=%d", sd.Bot, sd.Attempt)
		}
		if len(sd.Tried) > 0 {
			fmt.Fprintf(&b, " tried=%s", strings.Join(sd.Tried, ","))
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{sd.Waiting, "waiting"}, {sd.Canceled, "canceled"}, {sd.Orphan, "orphan"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		b.WriteByte('\n')
	}
	if s.Queue.Len() > 0 {
		fmt.Fprintf(&b, "queue: %s\n", strings.Join(s.Queue.Keys(), " "))
	}
	if s.Seen.Len()+s.SeenOld.Len() > 0 {
		fmt.Fprintf(&b, "seen: %s | older: %s\n", strings.Join(s.Seen.Keys(), " "), strings.Join(s.SeenOld.Keys(), " "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
