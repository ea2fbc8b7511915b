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
// logged out and in, between 1 and 20 of them. (Seed 13 is the first to
// catch a cursor wrapped to 0 after the last slot; seed 1 a compaction on
// an addition.)
func TestReview5RoundRobinIndependentOfCompaction(t *testing.T) {
	for seed := range uint64(16) {
		a, b := newWorld(t, exact()), newWorld(t, exact())
		do := func(act actions.Action) {
			a.do(act)
			b.do(act)
			var back reducers.Pool
			require.NoError(t, json.Unmarshal([]byte(mustJSON(t, b.s)), &back))
			b.s = back
		}
		c := &botChurn{rng: rand.New(rand.NewPCG(seed, 5)), adds: 3}
		for step := range 250 {
			if !c.step(func(id string) bool { return a.bot(id).Available }, do) {
				continue
			}
			id := fmt.Sprint("s", step)
			do(requested(id, "zed"))
			sa, oka := a.s.Sends.Get(id)
			sb, okb := b.s.Sends.Get(id)
			require.Equal(t, oka, okb)
			if !oka {
				continue
			}
			require.Equal(t, sa.Bot, sb.Bot, "seed %d step %d: send %s, bots %v", seed, step, id, c.live)
			if sa.Bot != "" && !sa.Waiting && !sa.Outcome.Done() {
				do(result(id, sa.Bot, sa.Attempt, actions.Delivered))
			}
			do(collected(id))
		}
	}
}
