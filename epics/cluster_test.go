package epics_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

// fakeForwarder records the attempts handed to it and answers with out.
type fakeForwarder struct {
	mu    sync.Mutex
	calls []string // "node bot #attempt"
	out   func(node string, sd reducers.Send) actions.SendResultPayload
}

// delivering is a forwarder whose owners deliver every send.
func delivering() *fakeForwarder {
	return &fakeForwarder{out: func(node string, _ reducers.Send) actions.SendResultPayload {
		return actions.SendResultPayload{Outcome: actions.Delivered, Node: node}
	}}
}

func (f *fakeForwarder) Forward(_ context.Context, node string, sd reducers.Send) actions.SendResultPayload {
	f.mu.Lock()
	f.calls = append(f.calls, node+" "+sd.Bot+" "+sd.ID)
	out := f.out
	f.mu.Unlock()
	return out(node, sd)
}

func (f *fakeForwarder) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// newClusterRig is a rig on node n1 of a cluster: b1 driven here (token
// 1), b2 driven by n2 (token 5), both logged in, both with a puppet here
// (a process has the puppets of the bots it may take over).
func newClusterRig(t *testing.T, fwd epics.Forwarder) *rig {
	t.Helper()
	cfg := exact()
	cfg.Node = "n1"
	r := startRig(t, cfg, func(cfg epics.Config, deps epics.Deps) []epics.Handler {
		return []epics.Handler{epics.Ding(cfg, deps), epics.Reset(cfg, deps), epics.Rooms(cfg, deps), epics.Contacts(cfg, deps),
			epics.Send(cfg, deps), epics.Health(), epics.Inbox(deps)}
	}, func(deps *epics.Deps) { deps.Forward = fwd })
	r.add("b1")
	r.add("b2")
	r.dispatch(actions.Owned.New(actions.OwnedPayload{Bot: "b1", Node: "n1", Token: 1}))
	r.dispatch(remote(actions.Owned.New(actions.OwnedPayload{Bot: "b2", Node: "n2", Token: 5})))
	r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
	r.dispatch(remote(actions.Login.New(actions.LoginPayload{Bot: "b2", Self: "self-b2"})))
	synctest.Wait()
	return r
}

// remote marks a as n2's, from its feed.
func remote(a actions.Action) actions.Action {
	a.Meta.Node, a.Meta.Token = "n2", 5
	return a
}

// TestEpicsActOnlyForLocalBots: over an hour in which b2, driven by n2,
// stays silent here, this process never calls b2's puppet (no rooms or
// contacts listing at its login, no ding, no reset), while b1, driven here, is
// dinged and answers.
func TestEpicsActOnlyForLocalBots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newClusterRig(t, nil)
		defer r.stop()
		r.answer("b1")
		r.until(time.Hour)
		assert.Empty(t, r.fake("b2").Calls(), "b2 is n2's")
		assert.NotEmpty(t, r.fake("b1").Calls())
		assert.True(t, r.botOf("b2").Available, "its owner says so")
		assert.True(t, r.botOf("b1").Available)
		assert.Empty(t, r.log(actions.ResetDone.Type()))
	})
}

// TestSendToRemoteBotIsForwarded: round robin sends s1 through b1 (here)
// and s2 through b2 (n2's): s2 goes to the forwarder, never to b2's puppet
// here, and ends as the owner says, with the node in the result. An
// owner's "not sent" is retried on the next bot; with no forwarder, the
// attempt is not sent and goes to b1.
func TestSendToRemoteBotIsForwarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fwd := delivering()
		r := newClusterRig(t, fwd)
		defer r.stop()
		r.say("s1", "alice")
		r.say("s2", "alice")
		synctest.Wait()
		s1, s2 := r.sendOf("s1"), r.sendOf("s2")
		assert.Equal(t, actions.Delivered, s1.Outcome)
		assert.Equal(t, "n1", s1.Node, "made here")
		assert.Equal(t, actions.Delivered, s2.Outcome)
		assert.Equal(t, "b2", s2.Bot)
		assert.Equal(t, "n2", s2.Node, "made by the owner")
		assert.Equal(t, []string{"n2 b2 s2"}, fwd.Calls())
		assert.Zero(t, says(r.fake("b2")))
		assert.Equal(t, 1, says(r.fake("b1")))

		fwd.mu.Lock()
		fwd.out = func(node string, sd reducers.Send) actions.SendResultPayload {
			return actions.SendResultPayload{Outcome: actions.NotSent, Node: node, Error: "never picked up"}
		}
		fwd.mu.Unlock()
		r.say("s3", "alice") // b1
		r.say("s4", "alice") // b2, not sent there, then b1
		synctest.Wait()
		s4 := r.sendOf("s4")
		assert.Equal(t, actions.Delivered, s4.Outcome)
		assert.Equal(t, []string{"b2"}, s4.Tried)
		assert.Equal(t, "b1", s4.Bot)
		assert.Zero(t, r.botOf("b2").Failures, "b2's failures are its owner's to count")
	})
}

func TestSendToRemoteBotWithoutForwarderIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newClusterRig(t, nil)
		defer r.stop()
		r.say("s1", "alice")
		r.say("s2", "alice")
		synctest.Wait()
		s2 := r.sendOf("s2")
		assert.Equal(t, actions.Delivered, s2.Outcome)
		assert.Equal(t, []string{"b2"}, s2.Tried)
		assert.Equal(t, 2, says(r.fake("b1")))
		assert.Zero(t, says(r.fake("b2")))
	})
}
