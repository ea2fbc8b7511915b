//go:build integration

package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	_ "github.com/hawechaty/hawechaty/puppet/wechatyservice" // registers "wechaty-puppet-service"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventually waits for cond with a deadline, polling.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// TestPoolOverTwoRealPuppetServices puts two real Wechaty puppet services
// behind one pool, configured from the environment as a user would. Sends
// succeed and spread; the heartbeat (chat ding and puppet-level ding) keeps
// both bots available; a killed server's bot is routed around with no
// send lost or doubled; restarting the server brings its bot back.
func TestPoolOverTwoRealPuppetServices(t *testing.T) {
	servers := servicetest.StartWorld(t, 2)
	env := servicetest.Env(servers...)
	ctx := context.Background()
	pool, err := hawechaty.FromEnvironment(ctx, func(k string) string { return env[k] },
		hawechaty.WithDingAfter(2*time.Second),
		hawechaty.WithFailAfter(6*time.Second),
		hawechaty.WithPuppetDing(),
		hawechaty.WithSendTimeout(5*time.Second),
		hawechaty.WithBackoff(epics.Backoff{Initial: 500 * time.Millisecond, Factor: 1.6, Jitter: 0.2, Max: 3 * time.Second}))
	require.NoError(t, err)
	changes := pool.Store().Subscribe(1 << 16)
	require.NoError(t, pool.Start(ctx))
	defer func() { require.NoError(t, pool.Stop(context.Background())) }()
	bots := pool.State().Bots.Keys()
	require.Equal(t, []string{"wechaty-puppet-service#0", "wechaty-puppet-service#1"}, bots)
	eventually(t, 60*time.Second, "both bots available, their contacts listed", func() bool {
		// Until a bot has listed its contacts, a send to a contact goes
		// through the bots that did (reducers.Reaches).
		s := pool.State()
		for _, id := range bots {
			if b, ok := s.Bots.Get(id); !ok || !b.Available || !b.Listed {
				return false
			}
		}
		return true
	})

	sent := 0
	unknown := map[string]bool{} // texts whose send may or may not have left
	say := func(phase string, n int, mayBeUnknown bool) map[string]int {
		t.Helper()
		by := map[string]int{}
		for i := range n {
			text := fmt.Sprintf("%s-%d", phase, i)
			r, err := pool.Say(ctx, servicetest.Contact, text)
			if mayBeUnknown && errors.Is(err, puppet.ErrOutcomeUnknown) {
				// A send that went out on the killed server's connection
				// just before the pool noticed: reported, never resent.
				unknown[text] = true
				continue
			}
			require.NoError(t, err, "send %s", text)
			by[r.Bot]++
			sent++
		}
		return by
	}
	by := say("before", 10, false)
	assert.Equal(t, map[string]int{bots[0]: 5, bots[1]: 5}, by, "round robin over both")

	// No traffic: only the heartbeat keeps them. Wait until each bot has
	// answered four dings (four times DingAfter is more than FailAfter)
	// and check that neither was ever failed meanwhile.
	dongsBy := map[string]int{}
	var dongs, failed, logins int
	audit := func() {
		for {
			select {
			case c := <-changes.C():
				switch c.Action.Type {
				case actions.Dong.Type():
					p, _ := actions.Dong.Match(c.Action)
					dongsBy[p.Bot]++
					dongs++
				case actions.Logout.Type(), actions.BotFailed.Type():
					failed++
				case actions.Login.Type():
					logins++
				}
			default:
				return
			}
		}
	}
	audit()
	quietFrom := map[string]int{bots[0]: dongsBy[bots[0]], bots[1]: dongsBy[bots[1]]}
	eventually(t, 60*time.Second, "four dongs per bot", func() bool {
		audit()
		return dongsBy[bots[0]]-quietFrom[bots[0]] >= 4 && dongsBy[bots[1]]-quietFrom[bots[1]] >= 4
	})
	assert.Zero(t, failed, "no bot failed while the heartbeat answered")
	assert.Equal(t, 2, pool.Health().Available, "%+v", pool.Health())
	for _, s := range servers {
		assert.Positive(t, s.Delivered(servicetest.Heartbeat, "ding"), "chat dings reached the official account")
	}

	// Kill one server: every later send goes through the other.
	servers[0].Kill()
	by = say("after-kill", 10, true)
	assert.Equal(t, map[string]int{bots[1]: 10 - len(unknown)}, by, "every send delivered went through the live bot")
	assert.LessOrEqual(t, len(unknown), 3, "at most EjectAfter sends reach the dead connection: %v", unknown)
	eventually(t, 30*time.Second, "the killed bot is out of rotation", func() bool { return pool.Health().Available == 1 })

	// Restart it: its bot logs in again and takes sends again.
	servers[0].Restart()
	eventually(t, 90*time.Second, "the bot is back", func() bool { return pool.Health().Available == 2 })
	by = say("after-restart", 10, false)
	assert.Equal(t, 5, by[bots[0]], "back in rotation: %v", by)

	// Nothing lost, nothing doubled: each text reached alice exactly once.
	// The servers record a message a moment after they answer its send:
	// wait for the last one.
	eventually(t, 10*time.Second, "the last send recorded", func() bool {
		return servers[0].Delivered(servicetest.Contact, "after-restart-9")+servers[1].Delivered(servicetest.Contact, "after-restart-9") > 0
	})
	for _, phase := range []struct {
		name string
		n    int
	}{{"before", 10}, {"after-kill", 10}, {"after-restart", 10}} {
		for i := range phase.n {
			text := fmt.Sprintf("%s-%d", phase.name, i)
			total := servers[0].Delivered(servicetest.Contact, text) + servers[1].Delivered(servicetest.Contact, text)
			if unknown[text] {
				assert.LessOrEqual(t, total, 1, "%q (outcome unknown) delivered %d times", text, total)
				continue
			}
			assert.Equal(t, 1, total, "%q delivered %d times", text, total)
		}
	}

	// The audit trail: the killed bot failed and recovered.
	audit()
	assert.Positive(t, failed)
	assert.GreaterOrEqual(t, logins, 3, "two logins, then the restarted bot's")
	t.Logf("%d sends, %d dongs, %d logins", sent, dongs, logins)
}
