package reducers_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/require"
)

// A pool of 1 to 20 bots, whose tables turn from small to big and back as
// bots are added (some under names removed before) and removed, keeps
// Bots, Avail and Sent aligned (world.do checks every step), and hands
// itself over through JSON at every step: the same JSON, a consistent
// pool, and the same next bot.
func TestReview5PoolAcrossSmallAndBigTables(t *testing.T) {
	for seed := range uint64(4) {
		w := newWorld(t, exact())
		c := &botChurn{rng: rand.New(rand.NewPCG(seed, 55)), adds: 4, reAdd: true}
		for step := range 200 {
			if c.step(func(id string) bool { return w.bot(id).Available }, func(a actions.Action) { w.do(a) }) {
				id := fmt.Sprint("s", step)
				w.do(collecting(id, "zed"))
				if sd, ok := w.s.Sends.Get(id); ok && sd.Bot != "" && !sd.Waiting {
					w.do(result(id, sd.Bot, sd.Attempt, actions.Delivered))
					require.Equal(t, id, w.s.Ended.ID)
				}
			}
			data := mustJSON(t, w.s)
			var back reducers.Pool
			require.NoError(t, json.Unmarshal([]byte(data), &back))
			require.NoError(t, checkPool(w.cfg, back), "seed %d step %d", seed, step)
			require.Equal(t, data, mustJSON(t, back), "seed %d step %d", seed, step)
			want, _ := reducers.NextBot(w.s, "zed", nil)
			got, _ := reducers.NextBot(back, "zed", nil)
			require.Equal(t, want, got, "seed %d step %d: the next bot after JSON", seed, step)
		}
		require.Greater(t, c.most, 8, "seed %d: the tables grew big", seed)
	}
}

// botChurn is a random life of a pool's bots, one step at a time: a bot
// added (logged in at once) in adds of 10 steps, under a new name or,
// with reAdd, sometimes under one removed before; a bot removed in 1;
// one logged out or in in 1; else a send, which the caller makes. The
// pool keeps 1 to 20 bots.
type botChurn struct {
	rng        *rand.Rand
	adds       int
	reAdd      bool
	live, gone []string
	next, most int
}

// step makes one step through do; up tells whether a bot is available.
// It reports true for a send.
func (c *botChurn) step(up func(id string) bool, do func(actions.Action)) bool {
	switch r := c.rng.IntN(10); {
	case r < c.adds && len(c.live) < 20 || len(c.live) == 0:
		id := fmt.Sprint("b", c.next)
		if c.reAdd && len(c.gone) > 0 && c.rng.IntN(2) == 0 {
			id, c.gone = c.gone[0], c.gone[1:] // added again
		} else {
			c.next++
		}
		do(added(id))
		do(login(id))
		c.live = append(c.live, id)
		c.most = max(c.most, len(c.live))
	case r < 5 && len(c.live) > 1:
		i := c.rng.IntN(len(c.live))
		do(removed(c.live[i]))
		c.gone = append(c.gone, c.live[i])
		c.live = append(c.live[:i], c.live[i+1:]...)
	case r < 6:
		if id := c.live[c.rng.IntN(len(c.live))]; up(id) {
			do(logout(id))
		} else {
			do(login(id))
		}
	default:
		return true
	}
	return false
}
