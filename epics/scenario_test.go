package epics_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
)

// TestScenarios runs the stories in testdata/scenarios: each command acts
// on a pool in virtual time and prints what the pool did. Regenerate the
// expectations with -rewrite, and commit them only when you understand
// what changed.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		synctest.Test(t, func(t *testing.T) {
			var r *rig
			defer func() {
				if r != nil {
					r.stop()
				}
			}()
			datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
				arg := func(key string) string {
					var v string
					if td.HasArg(key) {
						td.ScanArgs(t, key, &v)
					}
					return v
				}
				switch td.Cmd {
				case "pool":
					var bots []string
					for _, a := range td.CmdArgs {
						bots = append(bots, a.Key)
					}
					r = newRig(t, epics.Config{}, bots...)
					return r.story()
				case "advance":
					d, err := time.ParseDuration(arg("by"))
					if err != nil {
						td.Fatalf(t, "advance: %v", err)
					}
					time.Sleep(d)
				case "dong":
					r.dispatch(t, actions.Dong.New(actions.BotPayload{Bot: arg("bot")}))
				case "login":
					r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: arg("bot")}))
				case "logout":
					r.dispatch(t, actions.Logout.New(actions.ReasonPayload{Bot: arg("bot"), Reason: "test"}))
				case "message":
					r.dispatch(t, actions.Message.New(actions.MessagePayload{Bot: arg("bot"), MessageID: "m", From: "carol", Text: "hi"}))
				case "say":
					r.dispatch(t, actions.SendRequested.New(actions.SendPayload{ID: arg("id"), To: arg("to"), Text: "hello"}))
				case "sends":
					p := r.puppets[arg("bot")]
					switch outcome := arg("fail"); outcome {
					case "":
						p.sayErr = nil
					case "not-sent":
						p.sayErr = func(string) error { return fmt.Errorf("link down: %w", puppet.ErrNotSent) }
					case "unknown":
						p.sayErr = func(string) error { return fmt.Errorf("timeout: %w", puppet.ErrOutcomeUnknown) }
					default:
						td.Fatalf(t, "unknown outcome %q", outcome)
					}
				case "state":
					return r.describe()
				default:
					td.Fatalf(t, "unknown command %q", td.Cmd)
				}
				synctest.Wait()
				return r.story()
			})
		})
	})
}

func (r *rig) dispatch(t *testing.T, a actions.Action) {
	t.Helper()
	if err := r.st.Dispatch(a); err != nil {
		t.Fatal(err)
	}
}

// quiet actions are left out of stories: they are the inputs, or noise.
var quiet = map[string]bool{
	actions.Init.Type(): true, actions.BotAdded.Type(): true, actions.Message.Type(): true,
	actions.SendRequested.Type(): true, actions.Heartbeat.Type(): true,
}

// story prints the actions since the last call, one per line, with the
// virtual time since the pool started.
func (r *rig) story() string {
	var b strings.Builder
	for {
		select {
		case c := <-r.sub.C():
			if quiet[c.Action.Type] {
				continue
			}
			fmt.Fprintf(&b, "%-9v %-18s %s\n", c.Action.Meta.Time.Sub(r.start), c.Action.Type, describePayload(c.Action.Payload))
		default:
			if b.Len() == 0 {
				return "(nothing)"
			}
			return strings.TrimSuffix(b.String(), "\n")
		}
	}
}

func describePayload(p any) string {
	switch p := p.(type) {
	case actions.DingPayload:
		return fmt.Sprintf("%s #%d", p.Bot, p.Attempt)
	case actions.ReasonPayload:
		return fmt.Sprintf("%s (%s)", p.Bot, p.Reason)
	case actions.ResetPayload:
		s := fmt.Sprintf("%s #%d after %v", p.Bot, p.Attempt, p.Delay)
		if p.Error != "" {
			s += " error: " + p.Error
		}
		return s
	case actions.BotPayload:
		return p.Bot
	case actions.LoginPayload:
		return p.Bot
	case actions.RoutePayload:
		return fmt.Sprintf("%s → %s (attempt %d)", p.ID, p.Bot, p.Attempt)
	case actions.SendResultPayload:
		return fmt.Sprintf("%s via %s: %s", p.ID, p.Bot, p.Outcome)
	case actions.SendDonePayload:
		return fmt.Sprintf("%s: %s by %q after %d attempts", p.ID, p.Outcome, p.Bot, p.Attempts)
	case actions.Empty:
		return ""
	}
	return fmt.Sprintf("%+v", p)
}

// describe prints the pool state deterministically.
func (r *rig) describe() string {
	s := r.st.State()
	var b strings.Builder
	fmt.Fprintf(&b, "available %d of %d, down=%v, delivered=%d, failovers=%d\n", s.Available, s.Bots.Len(), s.Down, s.Delivered, s.Failovers)
	for id, bot := range s.Bots.All() {
		fmt.Fprintf(&b, "%s: available=%v loggedIn=%v dings=%d sent=%d failures=%d resets=%d", id, bot.Available, bot.LoggedIn, bot.Dings, bot.Sent, bot.Failures, bot.Resets)
		if bot.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", bot.Reason)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
