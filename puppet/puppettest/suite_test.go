package puppettest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// breakEnv names the breakage TestSuite runs against; empty for none. The
// parent test sets it for child runs of this test binary.
const breakEnv = "PUPPETTEST_BREAK"

// TestSuite runs the suite against a mock bot behind a wrapper. Normally
// the wrapper is faithful and the suite passes: the control for
// TestSuiteCatchesBrokenPuppets, which runs it again broken.
func TestSuite(t *testing.T) {
	puppettest.Run(t, harness(os.Getenv(breakEnv)))
}

// TestSuiteCatchesBrokenPuppets runs one check of the suite, in a child
// process, against a puppet broken in one way, and expects that check to
// fail for that reason.
func TestSuiteCatchesBrokenPuppets(t *testing.T) {
	tests := []struct {
		breakage, check, why string
	}{
		{"say-unknown-succeeds", "SayToUnknownIsPermanent", "want permanent"},
		{"dong-from-elsewhere", "HeartbeatContactAnswersDong", "want a direct message from"},
		{"ding-no-echo", "PuppetDing", `want the ding's "probe-1"`},
		{"drops-when-slow", "SlowReaderLosesNothing", "more burst messages before the deadline"},
		{"no-logout", "StopLogsOutAndRestartWorks", "no EventLogout before the deadline"},
		{"not-sent-is-unknown", "SayWhenStoppedIsNotSent", "want not sent"},
		{"ignores-cancel", "DoneContextIsRespected", "Say with a canceled context: <nil>"},
		{"hang-ignores-deadline", "DeadlineEndsAHungSay", "did not return before the deadline"},
		{"events-stay-open", "CloseClosesEvents", "Events not closed after Close"},
		{"no-post", "InboundMessages", "Features.Inbound is set but Subject.Post is nil"},
		{"try-ignores-self", "TrySayAnswersAtOnceOrNotAtAll", "TrySay answered for a type that embeds the puppet"},
	}
	for _, tt := range tests {
		t.Run(tt.breakage, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuite$/^"+tt.check+"$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), breakEnv+"="+tt.breakage)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed against %s (err %v):\n%s", tt.breakage, err, out)
			}
			for _, want := range []string{"--- FAIL: TestSuite/" + tt.check, tt.why} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// harness is the mock world of the mock package's own conformance test,
// with b1 wrapped and broken as named.
func harness(breakage string) puppettest.Harness {
	return puppettest.Harness{
		New: func(t *testing.T) puppettest.Subject {
			w := mock.NewWorld(mock.WithDongDelay(5*time.Millisecond), mock.WithDingDelay(5*time.Millisecond))
			t.Cleanup(func() { _ = w.Close() })
			must(t, w.AddContact("alice", "Alice"))
			b1, err := w.AddBot("b1")
			must(t, err)
			must(t, w.AddRoom("team", "the team", "alice", "b1"))
			s := puppettest.Subject{
				Puppet:           wrap(b1, breakage),
				HeartbeatContact: w.HeartbeatContact(),
				Room:             "team",
				Contact:          "alice",
				Post: func(conv, text string) error {
					if conv == "" {
						conv = "b1"
					}
					_, err := w.Post("alice", conv, text)
					return err
				},
				Delivered: func(to, text string) bool {
					return slices.ContainsFunc(w.Delivered(), func(d mock.Delivery) bool { return d.To == to && d.Text == text })
				},
				Hang: func() { b1.Hang(false) },
			}
			if breakage == "no-post" {
				s.Post = nil
			}
			return s
		},
		Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true, Hang: true, TrySay: true},
		Timeout:  2 * time.Second,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wrapped forwards to a mock bot, broken as named ("" for not at all).
type wrapped struct {
	*mock.Bot
	breakage string
	out      chan puppet.Event
	done     chan struct{}
	once     sync.Once
	fwd      sync.WaitGroup
}

func wrap(b *mock.Bot, breakage string) *wrapped {
	w := &wrapped{Bot: b, breakage: breakage, out: make(chan puppet.Event), done: make(chan struct{})}
	if breakage == "drops-when-slow" {
		w.out = make(chan puppet.Event, 8)
	}
	w.fwd.Go(w.forward)
	return w
}

// forward copies the bot's events to out, applying the event breakages.
func (w *wrapped) forward() {
	for ev := range w.Bot.Events() {
		switch {
		case w.breakage == "no-logout" && ev.Kind == puppet.EventLogout:
			continue
		case w.breakage == "ding-no-echo" && ev.Kind == puppet.EventDong:
			ev.Data = ""
		case w.breakage == "dong-from-elsewhere" && ev.Message != nil && ev.Message.Text == "dong":
			m := *ev.Message
			m.From = "someone-else"
			ev.Message = &m
		}
		if w.breakage == "drops-when-slow" {
			select {
			case w.out <- ev:
			default: // lost, silently
			}
			continue
		}
		select {
		case w.out <- ev:
		case <-w.done:
			return
		}
	}
	if w.breakage != "events-stay-open" {
		close(w.out)
	}
}

func (w *wrapped) Events() <-chan puppet.Event { return w.out }

func (w *wrapped) Close() error {
	err := w.Bot.Close()
	w.once.Do(func() { close(w.done) })
	w.fwd.Wait()
	return err
}

func (w *wrapped) Say(ctx context.Context, to, text string) error {
	switch w.breakage {
	case "ignores-cancel":
		ctx = context.WithoutCancel(ctx)
	case "hang-ignores-deadline":
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return w.Bot.Say(ctx, to, text)
	}
	err := w.Bot.Say(ctx, to, text)
	switch {
	case w.breakage == "say-unknown-succeeds" && puppet.Classify(err) == puppet.Permanent:
		return nil
	case w.breakage == "not-sent-is-unknown" && puppet.Classify(err) == puppet.NotSent:
		return errors.New("something went wrong")
	}
	return err
}

// TrySay is the bot's, for the wrapper as self (its Say is the bot's);
// broken, it answers for any self, a wrapper's around it included.
func (w *wrapped) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	if self == puppet.Puppet(w) || w.breakage == "try-ignores-self" {
		self = w.Bot
	}
	return w.Bot.TrySay(self, to, text)
}

func TestChecksFollowFeatures(t *testing.T) {
	all := puppettest.Checks(puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true, Hang: true})
	core := puppettest.Checks(puppettest.Features{})
	if len(all) != 13 || len(core) != 9 {
		t.Fatalf("checks: %d with every feature, %d with none; want 13 and 9", len(all), len(core))
	}
	for _, c := range core {
		if !slices.Contains(all, c) {
			t.Errorf("core check %q missing when every feature is on", c)
		}
	}
	if got := puppettest.Checks(puppettest.Features{Hang: true}); !slices.Contains(got, "DeadlineEndsAHungSay") {
		t.Errorf("Features.Hang does not add DeadlineEndsAHungSay: %v", got)
	}
}
