package epics_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// All asks for exactly what the seven handlers it combines ask for, on
// every action of a pool's life: logins, sends that succeed, fail over
// and wait, dings, failures, resets, messages, removals. The rig runs
// All's effects; for each action the seven are asked apart too, and
// what they ask for must be the same.
func TestAllIsTheSevenHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var checked, differ atomic.Int64
		var first atomic.Value
		cfg := exact()
		cfg.WaitForBot = true
		r := startRig(t, cfg, func(cfg epics.Config, deps epics.Deps) []epics.Handler {
			all := epics.All(cfg, deps)
			seven := []epics.Handler{epics.Ding(cfg, deps), epics.Reset(cfg, deps), epics.Rooms(cfg, deps), epics.Contacts(cfg, deps),
				epics.Send(cfg, deps), epics.Health(), epics.Inbox(deps)}
			return []epics.Handler{func(a actions.Action, s reducers.Pool, fx *epics.Effects) {
				var apart, together epics.Effects
				for _, h := range seven {
					h(a, s, &apart)
				}
				all(a, s, &together)
				wantEmit, wantRun := epics.Asked(&apart)
				gotEmit, gotRun := epics.Asked(&together)
				checked.Add(1)
				if d := cmp.Diff(wantEmit, gotEmit); d != "" || wantRun != gotRun {
					differ.Add(1)
					first.CompareAndSwap(nil, fmt.Sprintf("%s: runs %d, want %d; emits (-apart +all):\n%s", a.Type, gotRun, wantRun, d))
				}
				all(a, s, fx)
			}}
		}, nil)
		defer r.stop()
		for _, b := range []string{"b1", "b2", "b3"} {
			r.add(b)
			r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: "self-" + b}))
		}
		synctest.Wait()
		r.answer("b1")
		r.fake("b2").set(func(f *fakePuppet) { f.say = notSent })
		r.fake("b3").set(func(f *fakePuppet) {
			f.say = func(context.Context, string, string) error {
				return fmt.Errorf("left the room: %w", puppet.ErrPermanent)
			}
		})
		for i := range 6 {
			r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: fmt.Sprintf("s%d", i), To: "alice", Text: "hi"}))
		}
		synctest.Wait() // b3 refused a send as permanent: its rooms are listed again
		r.dispatch(actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m1", From: "alice", Text: "hello"}))
		r.dispatch(actions.Message.New(actions.MessagePayload{Bot: "b3", MessageID: "m1", From: "alice", Text: "hello"}))
		r.sleep(5 * time.Minute) // dings, b2 and b3 fail and are reset
		r.dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b3", Reason: "kicked"}))
		r.dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "maintenance"}))
		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "w1", To: "alice", Text: "waits"}))
		r.dispatch(actions.BotRemoved.New(actions.BotPayload{Bot: "b2"})) // the waiting send is retried
		r.dispatch(actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "self-b1"}))
		r.sleep(time.Minute)
		for i := range 3 {
			id := fmt.Sprintf("t%d", i)
			r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: "alice", Text: "again"}))
			r.dispatch(actions.SendCanceled.New(actions.SendIDPayload{ID: id}))
		}
		r.sleep(time.Minute)
		require.Greater(t, checked.Load(), int64(50), "a pool's life has more actions than that")
		assert.Zero(t, differ.Load(), "%v", first.Load())
	})
}
