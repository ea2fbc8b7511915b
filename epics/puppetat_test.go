package epics_test

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/samber/lo"
	"github.com/stretchr/testify/assert"
)

// TestSendAsksPuppetAtWhereTheBotIs: with Deps.PuppetAt, a send attempt
// looks its bot's puppet up there, with the bot's position in the
// state's Bots.
func TestSendAsksPuppetAtWhereTheBotIs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var asked []string
		r := startRig(t, exact(), func(cfg epics.Config, deps epics.Deps) []epics.Handler {
			return []epics.Handler{epics.Send(cfg, deps)}
		}, func(d *epics.Deps) {
			byName := d.Puppet
			d.PuppetAt = func(bot string, pos int) (puppet.Puppet, bool) {
				mu.Lock()
				asked = append(asked, fmt.Sprintf("%s@%d", bot, pos))
				mu.Unlock()
				return byName(bot)
			}
		})
		defer r.stop()
		for _, b := range []string{"b1", "b2", "b3"} {
			r.add(b)
			r.dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: "self-" + b}))
		}
		synctest.Wait()
		for i := range 3 {
			r.say(fmt.Sprint("s", i), "alice")
		}
		synctest.Wait()
		var want []string
		for i := range 3 {
			sd := r.sendOf(fmt.Sprint("s", i))
			assert.Equal(t, actions.Delivered, sd.Outcome)
			assert.Equal(t, r.st.State().Bots.Position(sd.Bot), sd.BotPosition())
			want = append(want, fmt.Sprintf("%s@%d", sd.Bot, sd.BotPosition()))
		}
		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, want, lo.Uniq(asked), "each attempt asks (a puppet without TrySay twice: tried, then run)")
	})
}
