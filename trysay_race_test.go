package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrySayRacesRemoveReplaceStop sends through puppets that answer at
// once (mock bots, puppet.TrySayer: the attempt is made on the goroutine
// that dispatches) while bots are removed and added again, DevTools jumps
// replace the state, and the pool stops at a random instant; it checks
// every Say against the world's log: a receipt was delivered once, by
// that bot; an error other than "outcome unknown" was not delivered;
// nothing was delivered twice; every Say returned. The default send
// budget runs out on the way: refills route the waiting sends again, on
// whichever goroutine dispatches then.
func TestTrySayRacesRemoveReplaceStop(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { trySayRace(t, seed) })
		})
	}
}

func trySayRace(t *testing.T, seed uint64) {
	runSayRace(t, seed, sayRace{bots: 4, slow: 200 * time.Millisecond, says: 20, salt: 11,
		churn: func(t *testing.T, rng *rand.Rand, pool *hawechaty.Pool, world *mock.World, name string, snaps *[]reducers.Pool) {
			switch rng.IntN(3) {
			case 0:
				if err := pool.Remove(t.Context(), name); err == nil {
					b, _ := world.Bot(name)
					_ = b.Close()
					again, err := world.AddBot(name + "-again")
					require.NoError(t, err)
					require.NoError(t, pool.Add(t.Context(), again))
				}
			case 1:
				require.NoError(t, pool.Store().Replace((*snaps)[rng.IntN(len(*snaps))], "devtools"))
			default:
				*snaps = append(*snaps, pool.State())
			}
		}})
}

// sayRace is a pool of mock bots under concurrent Says while churn
// changes it, every Say then checked against the world's log.
type sayRace struct {
	bots  int           // the last one answers after slow: TrySay declines, the attempt has a goroutine
	slow  time.Duration // how long the last bot takes to answer
	says  int           // goroutines saying at once
	salt  uint64        // of the churn's random numbers
	churn func(t *testing.T, rng *rand.Rand, pool *hawechaty.Pool, world *mock.World, name string, snaps *[]reducers.Pool)
}

// runSayRace runs r for 2 to 5 s of virtual time: churn is called every
// 0 to 100 ms with a bot that answers at once, and snaps, the states
// kept so far (the first, after Start); then the pool stops. It checks:
// a receipt was delivered once, by that bot; an error other than
// "outcome unknown" was not delivered; nothing was delivered twice;
// every Say returned.
func runSayRace(t *testing.T, seed uint64, r sayRace) {
	rng := rand.New(rand.NewPCG(seed, r.salt))
	world := mock.NewWorld(mock.WithSeed(seed))
	defer world.Close()
	require.NoError(t, world.AddContact("alice", "Alice"))
	pool, err := hawechaty.New(hawechaty.WithSeed(seed), hawechaty.WithSendTimeout(2*time.Second))
	require.NoError(t, err)
	for i := range r.bots {
		b, err := world.AddBot(fmt.Sprint("bot-", i))
		require.NoError(t, err)
		if i == r.bots-1 {
			b.SetLatency(r.slow)
		}
		require.NoError(t, pool.Add(t.Context(), b))
	}
	require.NoError(t, pool.Start(t.Context()))
	synctest.Wait()
	snaps := []reducers.Pool{pool.State()}

	var mu sync.Mutex
	var results []sayResult
	var wg sync.WaitGroup
	for s := range r.says {
		srng := rand.New(rand.NewPCG(seed, uint64(200+s)))
		wg.Go(func() {
			for i := 0; ; i++ {
				if srng.IntN(4) == 0 {
					time.Sleep(time.Duration(srng.IntN(50)) * time.Millisecond)
				}
				text := fmt.Sprintf("s%d-%d", s, i)
				r, err := pool.Say(t.Context(), "alice", text)
				mu.Lock()
				results = append(results, sayResult{text, r, err})
				mu.Unlock()
				if errors.Is(err, hawechaty.ErrStopped) {
					return
				}
			}
		})
	}
	end := time.Now().Add(2*time.Second + time.Duration(rng.Int64N(int64(3*time.Second))))
	for time.Now().Before(end) {
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		r.churn(t, rng, pool, world, fmt.Sprint("bot-", rng.IntN(r.bots-1)), &snaps)
	}
	require.NoError(t, pool.Stop(context.Background()))
	wg.Wait()
	time.Sleep(time.Hour)
	synctest.Wait()

	delivered := map[string][]string{}
	for _, d := range world.Delivered() {
		if d.To == "alice" {
			delivered[d.Text] = append(delivered[d.Text], d.Bot)
		}
	}
	for text, bots := range delivered {
		assert.Len(t, bots, 1, "%q delivered more than once", text)
	}
	ok := 0
	for _, res := range results {
		bots, sent := delivered[res.text]
		switch {
		case res.err == nil:
			ok++
			if assert.True(t, sent, "%q: a receipt, and no delivery", res.text) {
				assert.Equal(t, res.r.Bot, bots[0], "%q: the receipt names another bot", res.text)
			}
		case errors.Is(res.err, puppet.ErrOutcomeUnknown):
		default:
			assert.False(t, sent, "%q was delivered, and Say said: %v", res.text, res.err)
		}
	}
	assert.Positive(t, ok, "no Say was delivered")
	t.Logf("seed %d: %d Says, %d receipts, %d delivered", seed, len(results), ok, len(delivered))
}
