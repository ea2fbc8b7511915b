package epics_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/internal/syncbuf"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

// lister is a fake puppet with a protocol-level ding whose Contacts lists
// ids, or fails with err.
type lister struct {
	dinger
	ids []string
	err error
}

func (l lister) Contacts(context.Context) ([]puppet.Contact, error) {
	l.record("contacts")
	if l.err != nil {
		return nil, l.err
	}
	var out []puppet.Contact
	for _, id := range l.ids {
		out = append(out, puppet.Contact{ID: id})
	}
	return out, nil
}

// At login the Contacts handler lists the bot's contacts; a bot whose
// contacts lack the heartbeat contact is logged, marked, and dinged through
// the puppet protocol only. A listing that fails leaves the bot unlisted.
func TestContactsAtLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncbuf.Buffer
		r := startRig(t, exact(), func(cfg epics.Config, deps epics.Deps) []epics.Handler {
			return []epics.Handler{epics.Contacts(cfg, deps), epics.Ding(cfg, deps)}
		}, func(deps *epics.Deps) { deps.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
		defer r.stop()
		cfg := r.cfg
		pups := map[string]lister{
			"fan":    {dinger: dinger{&fakePuppet{name: "fan", start: r.start}}, ids: []string{cfg.HeartbeatContact, "alice"}},
			"loner":  {dinger: dinger{&fakePuppet{name: "loner", start: r.start}}, ids: []string{"alice"}},
			"broken": {dinger: dinger{&fakePuppet{name: "broken", start: r.start}}, err: errors.New("no list")},
		}
		for _, b := range []string{"fan", "loner", "broken"} {
			r.addPuppet(b, pups[b], pups[b].fakePuppet)
			r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: b}))
		}
		synctest.Wait()
		s := r.st.State()
		knowers, _ := s.Contacts.Get("alice")
		assert.Equal(t, []string{"fan", "loner"}, knowers)
		assert.True(t, s.Unfollowed.Has("loner"))
		assert.False(t, s.Unfollowed.Has("fan"))
		assert.False(t, s.Unfollowed.Has("broken"), "unknown is not unfollowed")
		broken, _ := s.Bots.Get("broken")
		assert.False(t, broken.Listed)
		assert.Contains(t, logs.String(), "does not follow the heartbeat contact")
		assert.Contains(t, logs.String(), "cannot list contacts")

		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"0s contacts", "1m0s ding"}, pups["loner"].Calls(), "the protocol ding only")
		assert.Equal(t, []string{"0s contacts", "1m0s say " + cfg.HeartbeatContact + ":ding"}, pups["fan"].Calls())
	})
}

// A send over every bot's budget waits; the refill is a deadline in the
// state, and its bot/DUE has the send routed.
func TestRefillRoutesWaitingSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := exact()
		cfg.RateLimit = reducers.RateLimit{Sends: 1, Per: 10 * time.Second, Burst: 1}
		r := newRig(t, cfg, "b1")
		defer r.stop()
		r.say("s1", "alice")
		r.say("s2", "alice")
		synctest.Wait()
		assert.Equal(t, actions.Delivered, r.sendOf("s1").Outcome)
		assert.True(t, r.sendOf("s2").Throttled)
		r.until(10 * time.Second)
		assert.Equal(t, actions.Delivered, r.sendOf("s2").Outcome)
		assert.Equal(t, []string{"0s say alice:hello", "10s say alice:hello"}, r.fake("b1").Calls()[1:])
	})
}
