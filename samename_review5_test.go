package hawechaty_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/require"
)

// TestReview5SaysWhileBotsComeBackUnderTheirNames is
// TestTrySayRacesRemoveReplaceStop with bots removed and added again
// under their own names (a new puppet each time: the members' index must
// never hand a send the puppet of another member, or of a removed one),
// 8 bots of which one answers in 1.5 s, and 48 Says at once, so that
// Says 256 apart wait together (the doorbell's map serves the later
// ones). Every Say is checked against the world's log.
func TestReview5SaysWhileBotsComeBackUnderTheirNames(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { trySayRaceSameName(t, seed) })
		})
	}
}

func trySayRaceSameName(t *testing.T, seed uint64) {
	runSayRace(t, seed, sayRace{bots: 8, slow: 1500 * time.Millisecond, says: 48, salt: 55,
		churn: func(t *testing.T, rng *rand.Rand, pool *hawechaty.Pool, world *mock.World, name string, _ *[]reducers.Pool) {
			if rng.IntN(2) == 0 {
				if err := pool.Remove(t.Context(), name); err == nil {
					b, _ := world.Bot(name)
					_ = b.Close()
					again, err := world.AddBot(name) // the same name, a new puppet
					require.NoError(t, err)
					require.NoError(t, pool.Add(t.Context(), again))
				}
				return
			}
			name = fmt.Sprint("bot-", rng.IntN(7))
			_ = pool.Remove(t.Context(), name)
			if b, ok := world.Bot(name); ok {
				_ = b.Close()
			}
			again, err := world.AddBot(name)
			require.NoError(t, err)
			_ = pool.Add(t.Context(), again) // a removal may have failed: a duplicate
		}})
}
