package epics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func notSent(context.Context, string, string) error {
	return fmt.Errorf("link down: %w", puppet.ErrNotSent)
}

// says counts the puppet's sends (dings excluded).
func says(f *fakePuppet) int {
	n := 0
	for _, c := range f.Calls() {
		if strings.Contains(c, " say ") && !strings.Contains(c, ":ding") {
			n++
		}
	}
	return n
}

// TestSendOneAttemptPerDecision: every attempt the reducer routes is made
// exactly once, by the bot it chose; a "not sent" goes to the next bot;
// later actions, a retry of a send that does not wait, or a stale result
// make no attempt.
func TestSendOneAttemptPerDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2", "b3")
		defer r.stop()
		gate := make(chan struct{}) // b1 answers once every send is routed
		r.fake("b1").set(func(f *fakePuppet) {
			f.say = func(ctx context.Context, to, text string) error {
				select {
				case <-gate:
				case <-ctx.Done():
				}
				return notSent(ctx, to, text)
			}
		})
		for i := range 6 {
			r.say(fmt.Sprintf("s%d", i), "alice")
		}
		synctest.Wait()
		// While s0 is in flight on b1: a retry of it (it does not wait)
		// and a result of no attempt of it decide nothing, so make none.
		r.dispatch(actions.SendRetry.New(actions.SendIDPayload{ID: "s0"}))
		r.dispatch(actions.SendResult.New(actions.SendResultPayload{ID: "s0", Bot: "b3", Attempt: 7, Outcome: actions.Delivered}))
		synctest.Wait()
		close(gate)
		synctest.Wait()
		attempts := map[string]int{}
		for i := range 6 {
			sd := r.sendOf(fmt.Sprintf("s%d", i))
			require.Equal(t, actions.Delivered, sd.Outcome)
			for _, b := range sd.Tried {
				attempts[b]++
			}
			attempts[sd.Bot]++
		}
		// s0 … s5 go to b1, b2, b3, b1, b2, b3; s0 and s3 are not sent by
		// b1 and go to b2 and b3 (in either order).
		assert.Equal(t, map[string]int{"b1": 2, "b2": 3, "b3": 3}, attempts)
		assert.Equal(t, 2, r.botOf("b1").Failures)
		for _, b := range []string{"b1", "b2", "b3"} {
			assert.Equal(t, attempts[b], says(r.fake(b)), "%s: one Say per attempt", b)
		}

		r.dispatch(actions.SendRetry.New(actions.SendIDPayload{ID: "s0"}))
		r.dispatch(actions.SendResult.New(actions.SendResultPayload{ID: "s1", Bot: "b2", Attempt: 1, Outcome: actions.NotSent}))
		r.dispatch(actions.Message.New(actions.MessagePayload{Bot: "b2", MessageID: "m", From: "carol"}))
		synctest.Wait()
		for _, b := range []string{"b1", "b2", "b3"} {
			assert.Equal(t, attempts[b], says(r.fake(b)), "%s: no attempt without a decision", b)
		}
	})
}

// TestSendHungPuppetIsReportedAtSendTimeout: a puppet that ignores its
// context is reported "outcome unknown" at SendTimeout, whatever the
// caller's deadline (the send, whose caller left, ends Abandoned); such
// sends count against the bot, and a run of them ejects it.
func TestSendHungPuppetIsReportedAtSendTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.answer("b2")
		r.fake("b1").set(func(f *fakePuppet) { f.say = func(ctx context.Context, _, _ string) error { return r.deaf(ctx) } })
		r.log()
		for i := range 5 {
			r.say(fmt.Sprintf("s%d", i), "alice")
		}
		synctest.Wait()
		// The callers give up after a second.
		r.sleep(time.Second)
		for i := range 5 {
			r.dispatch(actions.SendCanceled.New(actions.SendIDPayload{ID: fmt.Sprintf("s%d", i)}))
		}
		r.until(31 * time.Second)
		assert.Equal(t, []string{
			"0s send/RESULT s1 via b2 #1: delivered",
			"0s send/RESULT s3 via b2 #1: delivered",
			"30s bot/FAILED b1 (3 consecutive failed sends)",
			"30s send/RESULT s0 via b1 #1: outcome unknown",
			"30s send/RESULT s2 via b1 #1: outcome unknown",
			"30s send/RESULT s4 via b1 #1: outcome unknown",
		}, sortedWithin(r.log(actions.SendResult.Type(), actions.BotFailed.Type())))
		for _, id := range []string{"s0", "s2", "s4"} {
			sd := r.sendOf(id)
			assert.Equal(t, actions.Abandoned, sd.Outcome, "%s: the caller left, the message may have gone", id)
			assert.Contains(t, sd.Error, "no answer within 30s")
		}
		assert.False(t, r.botOf("b1").Available)
	})
}

// sortedWithin sorts log lines that share a time, so that actions of
// independent effects that end at the same instant compare in a fixed
// order; lines of different times keep their order.
func sortedWithin(ls []string) []string {
	out := append([]string(nil), ls...)
	key := func(s string) string { return s[:strings.IndexByte(s, ' ')] }
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && key(out[j]) == key(out[j-1]) && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestSendCanceledGoesOnToItsEnd: the caller's send/CANCELED does not cut
// the attempt short; it goes on to the puppet's answer or to SendTimeout.
// A puppet that hangs (here until its context ends) is reported at
// SendTimeout, its failure is the bot's, and after EjectAfter such sends
// the bot is ejected, whatever the callers' deadlines. The send itself
// ends as the caller's: abandoned, since an attempt that reached
// SendTimeout may have left.
func TestSendCanceledGoesOnToItsEnd(t *testing.T) {
	for _, tt := range []struct {
		name string
		say  func(ctx context.Context, _, _ string) error
		want actions.Outcome
	}{
		{"unknown", func(ctx context.Context, _, _ string) error { <-ctx.Done(); return ctx.Err() }, actions.Abandoned},
		{"not sent", func(ctx context.Context, to, _ string) error {
			<-ctx.Done()
			if to == "alice" {
				time.Sleep(time.Second) // answers late (virtual time): the report at SendTimeout comes first
			}
			return fmt.Errorf("%w: %w", puppet.ErrNotSent, ctx.Err())
		}, actions.Abandoned}, // reported at SendTimeout, before its late answer
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, exact(), "b1")
				defer r.stop()
				r.fake("b1").set(func(f *fakePuppet) { f.say = tt.say })
				r.log()
				for i := range 3 {
					id := fmt.Sprintf("s%d", i)
					r.say(id, "alice")
					r.sleep(5 * time.Second)
					r.dispatch(actions.SendCanceled.New(actions.SendIDPayload{ID: id}))
					synctest.Wait()
					sd := r.sendOf(id)
					assert.Equal(t, actions.Pending, sd.Outcome, "%s: the attempt goes on", id)
					r.sleep(25 * time.Second) // to SendTimeout
					synctest.Wait()
					sd = r.sendOf(id)
					assert.Equal(t, tt.want, sd.Outcome, id)
					assert.Equal(t, 1, sd.Attempt, "never retried")
					r.sleep(time.Second) // the late answer, if any, comes and changes nothing
					synctest.Wait()
					assert.Equal(t, tt.want, r.sendOf(id).Outcome, id)
				}
				results := r.log(actions.SendResult.Type())
				require.Len(t, results, 3)
				for _, l := range results {
					assert.NotContains(t, l, "(caller gone)")
				}
				assert.False(t, r.botOf("b1").Available, "a bot whose sends hang is ejected")
			})
		})
	}
}

// TestSendWaitsForABot: with WaitForBot a send waits while no bot can
// take it and is routed when one recovers; without it, no bot is an
// immediate NoBot and no puppet is called.
func TestSendWaitsForABot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := exact()
		cfg.WaitForBot = true
		r := newRig(t, cfg)
		defer r.stop()
		r.add("b1")
		r.say("s1", "alice")
		r.until(10 * time.Second)
		assert.True(t, r.sendOf("s1").Waiting)
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
		synctest.Wait()
		assert.Equal(t, actions.Delivered, r.sendOf("s1").Outcome)
		// A retry on bot/RECOVERED, and one on bot/ROOMS (the login lists
		// the rooms) if the send still waits then: the first routes it,
		// a second finds nothing waiting. One attempt either way.
		got := r.log(actions.SendRetry.Type(), actions.SendResult.Type())
		require.NotEmpty(t, got)
		assert.Equal(t, "10s send/RETRY s1", got[0])
		rest := slices.DeleteFunc(slices.Clone(got), func(l string) bool { return l == "10s send/RETRY s1" })
		assert.Equal(t, []string{"10s send/RESULT s1 via b1 #1: delivered"}, rest, "one result, the rest retries: %v", got)
		assert.LessOrEqual(t, len(got), 3)
		assert.Equal(t, 1, says(r.fake("b1")))
	})
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact())
		defer r.stop()
		f := r.add("b1")
		r.say("s1", "alice")
		synctest.Wait()
		assert.Equal(t, actions.NoBot, r.sendOf("s1").Outcome)
		assert.Empty(t, f.Calls())
	})
}

// TestSendToARemovedBotIsNotSent: an attempt routed to a bot whose puppet
// is gone is "not sent", and goes to the next bot.
func TestSendToARemovedBotIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1", "b2")
		defer r.stop()
		r.mu.Lock()
		delete(r.puppets, "b1") // the facade forgets the puppet first …
		r.mu.Unlock()
		r.say("s1", "alice") // … and a send is routed before bot/REMOVED
		r.dispatch(actions.BotRemoved.New(actions.BotPayload{Bot: "b1"}))
		synctest.Wait()
		sd := r.sendOf("s1")
		assert.Equal(t, actions.Delivered, sd.Outcome)
		assert.Equal(t, "b2", sd.Bot)
		assert.Equal(t, []string{"b1"}, sd.Tried)
	})
}

// trier is a fake puppet that can answer at once (puppet.TrySayer):
// TrySay answers for the texts in now, and leaves the others to Say.
type trier struct {
	*fakePuppet
	now map[string]error
}

func (p *trier) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	err, ok := p.now[text]
	if !ok || self != puppet.Puppet(p) {
		return false, nil
	}
	p.record("try " + to + ":" + text)
	return true, err
}

// A text attempt through a puppet.TrySayer is made on the dispatching
// goroutine: the send has its outcome when Dispatch returns, and Say is
// not called. A TrySay that would have to wait leaves the attempt to Say.
// The outcome counts as Say's would: "not sent" goes to the next bot.
func TestSendTriesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact())
		defer r.stop()
		for _, b := range []string{"b1", "b2"} {
			f := &fakePuppet{name: b, start: r.start, events: make(chan puppet.Event)}
			r.addPuppet(b, &trier{f, map[string]error{"quick": nil, "refused": puppet.ErrNotSent}}, f)
			r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: "self-" + b}))
		}
		synctest.Wait()

		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s1", To: "alice", Text: "quick"}))
		sd, ok := r.st.State().Sends.Get("s1")
		require.True(t, ok)
		assert.Equal(t, actions.Delivered, sd.Outcome, "the outcome is in the state when Dispatch returns")

		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s2", To: "alice", Text: "slow"}))
		synctest.Wait()
		sd, _ = r.st.State().Sends.Get("s2")
		assert.Equal(t, actions.Delivered, sd.Outcome)

		r.fake("b1").set(func(f *fakePuppet) { f.say = notSent })
		r.fake("b2").set(func(f *fakePuppet) { f.say = notSent })
		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s3", To: "alice", Text: "refused"}))
		sd, _ = r.st.State().Sends.Get("s3")
		assert.Equal(t, actions.NoBot, sd.Outcome, "tried on both bots at once, each refused")
		assert.Equal(t, 2, sd.Attempt)

		calls := append(r.fake("b1").Calls(), r.fake("b2").Calls()...)
		slices.Sort(calls)
		assert.Equal(t, []string{"0s say alice:slow", "0s try alice:quick", "0s try alice:refused", "0s try alice:refused"},
			slices.DeleteFunc(calls, func(c string) bool { return !strings.Contains(c, " say ") && !strings.Contains(c, " try ") }))
	})
}

// Without Deps.Puppet no attempt can be made: it is not sent, and the
// epic goes on.
func TestSendWithoutPuppets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRig(t, exact(), func(cfg epics.Config, deps epics.Deps) []epics.Handler {
			return []epics.Handler{epics.Send(cfg, epics.Deps{})}
		}, nil)
		defer r.stop()
		r.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1", Puppet: "fake"}))
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "s1", To: "alice", Text: "hi"}))
		synctest.Wait()
		sd, ok := r.st.State().Sends.Get("s1")
		require.True(t, ok)
		assert.Equal(t, actions.NoBot, sd.Outcome, "not sent by the only bot: no bot left")
		assert.Equal(t, []string{"b1"}, sd.Tried, "b1 was tried: its attempt was not sent")
	})
}
