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
		rng := rand.New(rand.NewPCG(seed, 55))
		w := newWorld(t, exact())
		var live, gone []string
		next, most := 0, 0
		for step := range 200 {
			switch r := rng.IntN(10); {
			case r < 4 && len(live) < 20 || len(live) == 0:
				id := fmt.Sprint("b", next)
				if len(gone) > 0 && rng.IntN(2) == 0 {
					id, gone = gone[0], gone[1:] // added again
				} else {
					next++
				}
				w.do(added(id))
				w.do(login(id))
				live = append(live, id)
				most = max(most, len(live))
			case r < 5 && len(live) > 1:
				i := rng.IntN(len(live))
				w.do(removed(live[i]))
				gone = append(gone, live[i])
				live = append(live[:i], live[i+1:]...)
			case r < 6:
				if id := live[rng.IntN(len(live))]; w.bot(id).Available {
					w.do(logout(id))
				} else {
					w.do(login(id))
				}
			default:
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
		require.Greater(t, most, 8, "seed %d: the tables grew big", seed)
	}
}
