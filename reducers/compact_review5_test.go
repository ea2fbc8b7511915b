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

// Round robin does not depend on how the tables keep their positions: a
// pool whose tables are compacted after every action (a JSON round trip,
// which drops every hole and grows and shrinks tables across the small
// size) chooses the same bot for every send as one whose tables compact
// when they choose to, through bots added (under new names), removed,
// logged out and in, between 1 and 20 of them.
func TestReview5RoundRobinIndependentOfCompaction(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 5))
		a, b := newWorld(t, exact()), newWorld(t, exact())
		do := func(act actions.Action) {
			a.do(act)
			b.do(act)
			var back reducers.Pool
			require.NoError(t, json.Unmarshal([]byte(mustJSON(t, b.s)), &back))
			b.s = back
		}
		var live []string
		next := 0
		for step := range 250 {
			switch r := rng.IntN(10); {
			case r < 3 && len(live) < 20 || len(live) == 0:
				id := fmt.Sprint("b", next)
				next++
				do(added(id))
				do(login(id))
				live = append(live, id)
			case r < 5 && len(live) > 1:
				i := rng.IntN(len(live))
				do(removed(live[i]))
				live = append(live[:i], live[i+1:]...)
			case r < 6:
				id := live[rng.IntN(len(live))]
				if a.bot(id).Available {
					do(logout(id))
				} else {
					do(login(id))
				}
			default:
				id := fmt.Sprint("s", step)
				do(requested(id, "zed"))
				sa, oka := a.s.Sends.Get(id)
				sb, okb := b.s.Sends.Get(id)
				require.Equal(t, oka, okb)
				if !oka {
					continue
				}
				require.Equal(t, sa.Bot, sb.Bot, "seed %d step %d: send %s, bots %v", seed, step, id, live)
				if sa.Bot != "" && !sa.Waiting && !sa.Outcome.Done() {
					do(result(id, sa.Bot, sa.Attempt, actions.Delivered))
				}
				do(collected(id))
			}
		}
	}
}
