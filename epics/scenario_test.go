package epics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
)

// TestScenarios runs the stories in testdata/scenarios: each command acts
// on a pool (a real store with the Clock and Effect epics and fake
// puppets) in virtual time and prints what the pool did. Actions of one
// instant are printed in a fixed order (sorted), since independent
// effects that end at the same instant may reach the store in either
// order. Regenerate the expectations with -rewrite, and commit them only
// when you understand what changed.
//
//	pool B… · advance by=D · login|logout|dong|message bot=B
//	say id=S to=T · sends bot=B [fail=not-sent|unknown|permanent|hang]
//	state
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
				if r != nil {
					r.t = t
				}
				switch td.Cmd {
				case "pool":
					var bots []string
					for _, a := range td.CmdArgs {
						bots = append(bots, a.Key)
					}
					if r != nil {
						r.stop()
					}
					r = newRig(t, exact(), bots...)
				case "advance":
					d, err := time.ParseDuration(arg("by"))
					if err != nil {
						td.Fatalf(t, "advance: %v", err)
					}
					r.sleep(d)
				case "dong":
					r.dispatch(actions.Dong.New(actions.BotPayload{Bot: arg("bot")}))
				case "login":
					r.dispatch(actions.Login.New(actions.LoginPayload{Bot: arg("bot"), Self: "self-" + arg("bot")}))
				case "logout":
					r.dispatch(actions.Logout.New(actions.ReasonPayload{Bot: arg("bot"), Reason: "test"}))
				case "message":
					r.dispatch(actions.Message.New(actions.MessagePayload{Bot: arg("bot"), MessageID: "m" + fmt.Sprint(time.Since(r.start)), From: "carol", Text: "hi"}))
				case "say":
					r.say(arg("id"), arg("to"))
				case "sends":
					var say func(ctx context.Context, to, text string) error
					switch outcome := arg("fail"); outcome {
					case "":
					case "not-sent":
						say = notSent
					case "unknown":
						say = func(context.Context, string, string) error {
							return fmt.Errorf("timeout: %w", puppet.ErrOutcomeUnknown)
						}
					case "permanent":
						say = func(context.Context, string, string) error { return errPermanent }
					case "hang":
						say = func(ctx context.Context, _, _ string) error { return r.deaf(ctx) }
					default:
						td.Fatalf(t, "unknown outcome %q", outcome)
					}
					r.fake(arg("bot")).set(func(f *fakePuppet) { f.say = say })
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

// quiet actions are left out of stories: the inputs, and the clock's
// ticks (their effects are told).
var quiet = map[string]bool{
	actions.Init.Type(): true, actions.BotAdded.Type(): true, actions.Message.Type(): true,
	actions.SendRequested.Type(): true, actions.Heartbeat.Type(): true, actions.Due.Type(): true,
	actions.RoomsLearned.Type(): true, actions.MessageAccepted.Type(): true,
}

// story prints the actions since the last call, one per line, with the
// virtual time since the pool started, then how the sends that ended
// meanwhile ended.
func (r *rig) story() string {
	var out []string
	var ended []string
	for _, c := range r.changes() {
		if p, ok := actions.SendResult.Match(c.Action); ok {
			if sd, ok := c.State.Sends.Get(p.ID); ok && sd.Outcome.Done() && !slices.Contains(ended, p.ID) {
				ended = append(ended, p.ID)
			}
		}
		if p, ok := actions.SendRequested.Match(c.Action); ok {
			if sd, ok := c.State.Sends.Get(p.ID); ok && sd.Outcome.Done() {
				ended = append(ended, p.ID)
			}
		}
		if quiet[c.Action.Type] {
			continue
		}
		out = append(out, fmt.Sprintf("%-9v %-18s %s", c.Action.Meta.Time.Sub(r.start), c.Action.Type, describe(c.Action.Payload)))
	}
	out = sortedWithin(out)
	for _, id := range ended {
		sd := r.sendOf(id)
		out = append(out, fmt.Sprintf("= %s: %s by %q after %d attempts", id, sd.Outcome, sd.Bot, sd.Attempt))
	}
	if len(out) == 0 {
		return "(nothing)"
	}
	return strings.Join(out, "\n")
}

// describe prints the pool state deterministically.
func (r *rig) describe() string {
	s := r.st.State()
	var b strings.Builder
	fmt.Fprintf(&b, "available %d of %d, down=%v, delivered=%d, failovers=%d\n", s.Available, s.Bots.Len(), s.Down, s.Delivered, s.Failovers)
	for id, bot := range s.Bots.All() {
		sent, _ := s.Sent.Get(id)
		fmt.Fprintf(&b, "%s: %v available=%v loggedIn=%v dings=%d sent=%d failures=%d resets=%d", id, bot.Phase, bot.Available, bot.LoggedIn, bot.Dings, sent, bot.Failures, bot.Reset)
		if bot.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", bot.Reason)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
