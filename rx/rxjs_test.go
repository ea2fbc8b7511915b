package rx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// The tests in this file compare the operators of rx, and the marbles of
// marbletest, with what RxJS 7's TestScheduler answers in run mode (one
// frame is one millisecond). testdata/rxjs/golden.json holds the cases,
// their inputs and RxJS's answers; testdata/rxjs/reference.mjs wrote it,
// and make integration-rxjs checks that it still does.

// reference is golden.json.
type reference struct {
	RxJS    string `json:"rxjs"`
	Marbles []struct {
		Marble string  `json:"marble"`
		Events []event `json:"events"`
	} `json:"marbles"`
	Cases              []refCase `json:"cases"`
	SubscriptionChecks []struct {
		Cold     string          `json:"cold"`
		Sub      *string         `json:"sub"`
		Marbles  json.RawMessage `json:"marbles"` // a marble or a list of them
		Accepted bool            `json:"accepted"`
	} `json:"subscriptionChecks"`
}

// refCase is one pipeline run by RxJS: Op names it, the other fields are
// its inputs, Output and Subscriptions what RxJS saw.
type refCase struct {
	Name     string         `json:"name"`
	Op       string         `json:"op"`
	Hot      string         `json:"hot"`
	Cold     []string       `json:"cold"`
	Sub      *string        `json:"sub"`
	Due      int            `json:"due"`
	Period   int            `json:"period"`
	N        int            `json:"n"`
	Notifier string         `json:"notifier"`
	Eq       string         `json:"eq"`
	Keys     map[string]int `json:"keys"`
	// Throws is the value on which the case's function (project, key,
	// comparator) throws in RxJS, and panics here.
	Throws string  `json:"throws"`
	Output []event `json:"output"`
	// Subscriptions of each cold source, [subscribed, unsubscribed]
	// frames, unsubscribed null while the subscription lasts.
	Subscriptions [][][2]*int `json:"subscriptions"`
}

// event is [frame, symbol]: a value, "|" or "#".
type event struct {
	Frame  int
	Symbol string
}

func (e *event) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &e.Frame); err != nil {
		return err
	}
	return json.Unmarshal(raw[1], &e.Symbol)
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/rxjs/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	if ref.RxJS == "" || len(ref.Cases) == 0 || len(ref.Marbles) == 0 || len(ref.SubscriptionChecks) == 0 {
		t.Fatal("golden.json is incomplete")
	}
	return ref
}

const ms = time.Millisecond

func frames(n int) time.Duration { return time.Duration(n) * ms }

// marble writes events as a marble diagram.
func marble(events []event) string {
	tl := marbletest.Timeline{Frame: ms}
	for _, e := range events {
		ev := marbletest.Event{At: frames(e.Frame), Kind: marbletest.Next, Value: e.Symbol}
		switch e.Symbol {
		case "|":
			ev = marbletest.Event{At: frames(e.Frame), Kind: marbletest.Complete}
		case "#":
			ev = marbletest.Event{At: frames(e.Frame), Kind: marbletest.Error}
		}
		tl.Events = append(tl.Events, ev)
	}
	return tl.String()
}

// subscriptionMarbles writes subscription windows as marbles.
func subscriptionMarbles(windows [][2]*int) []string {
	var out []string
	for _, w := range windows {
		tl := marbletest.Timeline{Frame: ms, HasSub: true, Subscribed: frames(*w[0])}
		if w[1] != nil {
			tl.HasUnsub, tl.Unsubscribed = true, frames(*w[1]-*w[0])
		}
		out = append(out, tl.String())
	}
	return out
}

// letter is every value of the cases: its payload is the marble's letter.
var letter = actions.Define[string]("rx_test/LETTER")

var letters = func() marbletest.Values {
	v := marbletest.Values{}
	for _, r := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" {
		v[string(r)] = letter.New(string(r))
	}
	return v
}()

func payload(v any) string {
	p, _ := letter.Match(v.(actions.Action))
	return p
}

// build is the Go pipeline of a case, on the epic's input in and the
// case's cold sources.
func build(t *testing.T, c refCase, in rxgo.Observable, sources []rxgo.Observable) rxgo.Observable {
	switch c.Op {
	case "hot":
		return in
	case "timer":
		return rx.Timer(frames(c.Due), letters["d"])
	case "debounceTime":
		return rx.DebounceTime(in, frames(c.Due))
	case "takeUntil":
		return rx.TakeUntil(sources[0], notifier(c, sources))
	case "takeUntilTimer":
		return rx.TakeUntil(in, rx.Timer(frames(c.Due), letters["x"]))
	case "take":
		return rx.Take(sources[0], c.N)
	case "timerEvery":
		return rx.Take(rx.TimerEvery(frames(c.Due), frames(c.Period), func(n int) any { return letters[strconv.Itoa(n)] }), c.N)
	case "distinctUntilChanged":
		var eq func(a, b any) bool
		if c.Eq == "caseless" {
			eq = func(a, b any) bool { return strings.EqualFold(payload(a), payload(b)) }
		}
		if c.Throws != "" {
			eq = func(a, b any) bool {
				panicOn(c, b)
				return payload(a) == payload(b)
			}
		}
		return rx.DistinctUntilChanged(sources[0], eq)
	case "merge":
		return rx.Merge(sources...)
	case "switchMap":
		return rx.SwitchMap(in, func(_ context.Context, v any) rxgo.Observable {
			panicOn(c, v)
			return rx.Timer(frames(c.Due), letters[strings.ToUpper(payload(v))])
		})
	case "switchMapBy":
		return rx.SwitchMapBy(in, func(v any) int { panicOn(c, v); return c.Keys[payload(v)] }, func(_ context.Context, v any) rxgo.Observable {
			ding := letters[strings.ToUpper(payload(v))]
			return rx.Take(rx.TimerEvery(frames(c.Due), frames(c.Period), func(int) any { return ding }), c.N)
		})
	case "heartbeat":
		return heartbeat(c, in)
	}
	t.Errorf("%s: no Go pipeline for op %q", c.Name, c.Op)
	return rxgo.Empty()
}

// panicOn panics on the value the case's function throws on in RxJS.
func panicOn(c refCase, v any) {
	if c.Throws != "" && payload(v) == c.Throws {
		panic(c.Name)
	}
}

// heartbeat is HAWechaty's heartbeat per bot: messages (a, b) grouped by
// bot, each switching to a ding (A, B) after c.Due of silence and then
// every c.Period, cut by the bot's dong (x, y).
func heartbeat(c refCase, in rxgo.Observable) rxgo.Observable {
	bot := func(v any) int { return c.Keys[payload(v)] }
	is := func(set string) func(any) bool {
		return func(v any) bool { return strings.Contains(set, payload(v)) }
	}
	messages := in.Filter(is("ab"))
	return rx.SwitchMapBy(messages, bot, func(_ context.Context, v any) rxgo.Observable {
		dongs := in.Filter(func(d any) bool { return is("xy")(d) && bot(d) == bot(v) })
		ding := letters[strings.ToUpper(payload(v))]
		return rx.TakeUntil(rx.TimerEvery(frames(c.Due), frames(c.Period), func(int) any { return ding }), dongs)
	})
}

// notifier is the notifier of a takeUntil case. RxJS's of(x) and
// throwError notify synchronously; Go's nearest is a channel that already
// holds the item when the notifier is observed.
func notifier(c refCase, sources []rxgo.Observable) rxgo.Observable {
	holding := func(it rxgo.Item) rxgo.Observable {
		ch := make(chan rxgo.Item, 1)
		ch <- it
		close(ch)
		return rxgo.FromChannel(ch)
	}
	switch c.Notifier {
	case "of":
		return holding(rxgo.Of(letters["x"]))
	case "error":
		return holding(rxgo.Error(fmt.Errorf("notifier")))
	case "empty":
		return rxgo.Empty()
	}
	return sources[1]
}

// difference is where this project answers otherwise than RxJS, on
// purpose: the marbletest and rx package docs say why.
type difference struct {
	rxjs string // RxJS's answer, as the docs quote it
	ours string
	// anyFirstSubscription: whether the first cold source is subscribed
	// (and unsubscribed in the same frame) or not is left open.
	anyFirstSubscription bool
}

var differences = map[string]difference{
	// Timers first: the timer of a, due at 3, fires before b is
	// delivered in the same frame.
	"difference: debounceTime(3) of a--b": {rxjs: "------b", ours: "---a--b"},
	// Timers first: the notifier's timer beats b.
	"difference: takeUntil(timer 3) of hot ---b": {rxjs: "---(b|)", ours: "---|"},
	// A cold frame-zero value comes from a goroutine at once: whether the
	// source was subscribed before it arrived is a race.
	"difference: takeUntil(cold x) of -a|": {rxjs: "|", ours: "|", anyFirstSubscription: true},
}

// runCase runs c's Go pipeline under ExpectEpic and checks its output
// against want and its sources' subscriptions against RxJS's.
func runCase(t *testing.T, c refCase, want string, anyFirstSubscription bool) {
	marbletest.Run(t, func(m *marbletest.M) {
		var colds []*marbletest.Cold
		var sources []rxgo.Observable
		for _, s := range c.Cold {
			cold := m.Cold(s, letters)
			colds = append(colds, cold)
			sources = append(sources, cold.Observable())
		}
		epic := func(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			return build(t, c, in, sources)
		}
		ec := marbletest.EpicCase[int]{Input: c.Hot, Values: letters, Expected: want}
		if c.Sub != nil {
			ec.Subscription = *c.Sub
		}
		marbletest.ExpectEpic(m, epic, ec)
		for i, cold := range colds {
			if i == 0 && anyFirstSubscription {
				if got := cold.Subscriptions(); len(got) > 0 && (len(got) > 1 || got[0] != "(^!)") {
					t.Errorf("subscriptions of the source: %q, want none or (^!)", got)
				}
				continue
			}
			if i < len(c.Subscriptions) {
				cold.ExpectSubscriptions(subscriptionMarbles(c.Subscriptions[i])...)
			}
		}
	})
}

func TestOperatorsAgainstRxJS(t *testing.T) {
	ref := loadReference(t)
	seen := map[string]bool{}
	for _, c := range ref.Cases {
		if seen[c.Name] {
			t.Fatalf("two cases named %q", c.Name)
		}
		seen[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			want := marble(c.Output)
			d, differs := differences[c.Name]
			if differs {
				if want != d.rxjs {
					t.Fatalf("RxJS %s answers %q; the docs quote %q", ref.RxJS, want, d.rxjs)
				}
				want = d.ours
			}
			runCase(t, c, want, d.anyFirstSubscription)
		})
	}
	for name := range differences {
		if !seen[name] {
			t.Errorf("difference %q has no case in golden.json", name)
		}
	}
}

// parseDifferences are the marbles that this project reads otherwise
// than RxJS (see the marbletest package doc): our events, as [frame,
// symbol] relative to '^'.
var parseDifferences = map[string][]event{
	// '^' at its time (RxJS subtracts its character index, 7).
	"a 10ms ^ b": {{-11, "a"}, {1, "b"}},
	// RxJS puts a and b of one group in different frames here.
	"(ab)^c": {{-4, "a"}, {-4, "b"}, {1, "c"}},
	// A time progression may end the marble (RxJS wants a space after).
	"a 10ms": {{0, "a"}},
}

func TestMarblesParseAsInRxJS(t *testing.T) {
	ref := loadReference(t)
	for _, r := range ref.Marbles {
		tl, err := marbletest.Parse(r.Marble, ms)
		if err != nil {
			t.Errorf("Parse(%q): %v", r.Marble, err)
			continue
		}
		want := r.Events
		if ours, differs := parseDifferences[r.Marble]; differs {
			if fmt.Sprint(ours) == fmt.Sprint(want) {
				t.Errorf("%q: RxJS now reads it as we do; drop it from the differences", r.Marble)
			}
			want = ours
		}
		var got []event
		for _, e := range tl.Events {
			got = append(got, event{Frame: int(e.At / ms), Symbol: e.Symbol()})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Parse(%q) = %v, want %v", r.Marble, got, want)
		}
	}
}

// verdicts records whether an assertion failed.
type verdicts struct{ failed []string }

func (v *verdicts) Helper() {}
func (v *verdicts) Errorf(format string, args ...any) {
	v.failed = append(v.failed, fmt.Sprintf(format, args...))
}

func TestExpectSubscriptionsAsInRxJS(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.SubscriptionChecks {
		var marbles []string
		if err := json.Unmarshal(c.Marbles, &marbles); err != nil {
			var one string
			if err := json.Unmarshal(c.Marbles, &one); err != nil {
				t.Fatalf("marbles %s: %v", c.Marbles, err)
			}
			marbles = []string{one}
		}
		var v verdicts
		marbletest.Run(t, func(m *marbletest.M) {
			cold := m.Cold(c.Cold, letters)
			if c.Sub != nil {
				epic := func(context.Context, rxgo.Observable, store.StateStream[int]) rxgo.Observable {
					return cold.Observable()
				}
				marbletest.ExpectEpic(m, epic, marbletest.EpicCase[int]{Values: letters, Subscription: *c.Sub, Expected: "-a"})
			}
			m.SetTB(&v)
			cold.ExpectSubscriptions(marbles...)
		})
		if accepted := len(v.failed) == 0; accepted != c.Accepted {
			t.Errorf("source %q subscribed %v: ExpectSubscriptions(%q) accepted=%v, RxJS %v (%q)", c.Cold, deref(c.Sub), marbles, accepted, c.Accepted, v.failed)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "never"
	}
	return strconv.Quote(*s)
}
