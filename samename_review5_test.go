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
	rng := rand.New(rand.NewPCG(seed, 55))
	world := mock.NewWorld(mock.WithSeed(seed))
	defer world.Close()
	require.NoError(t, world.AddContact("alice", "Alice"))
	pool, err := hawechaty.New(hawechaty.WithSeed(seed), hawechaty.WithSendTimeout(2*time.Second))
	require.NoError(t, err)
	const nbots = 8
	for i := range nbots {
		b, err := world.AddBot(fmt.Sprint("bot-", i))
		require.NoError(t, err)
		if i == nbots-1 {
			b.SetLatency(1500 * time.Millisecond) // TrySay declines: the attempt's goroutine
		}
		require.NoError(t, pool.Add(t.Context(), b))
	}
	require.NoError(t, pool.Start(t.Context()))
	synctest.Wait()
	snaps := []reducers.Pool{pool.State()}

	var mu sync.Mutex
	var results []sayResult
	var wg sync.WaitGroup
	for s := range 48 { // more Says at once than a few: slots 256 apart meet, the map serves
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
	// Remove and add again bots that answer at once, and jump in time,
	// while the Says go on.
	end := time.Now().Add(2*time.Second + time.Duration(rng.Int64N(int64(3*time.Second))))
	for time.Now().Before(end) {
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		name := fmt.Sprint("bot-", rng.IntN(nbots-1))
		switch rng.IntN(3) {
		case 0:
			if err := pool.Remove(t.Context(), name); err == nil {
				b, _ := world.Bot(name)
				_ = b.Close()
				again, err := world.AddBot(name) // the same name, a new puppet
				require.NoError(t, err)
				require.NoError(t, pool.Add(t.Context(), again))
			}
		case 1:
			name := fmt.Sprint("bot-", rng.IntN(nbots-1))
			_ = pool.Remove(t.Context(), name)
			if b, ok := world.Bot(name); ok {
				_ = b.Close()
			}
			again, err := world.AddBot(name)
			require.NoError(t, err)
			_ = pool.Add(t.Context(), again) // a removal may have failed: a duplicate
		default:
			snaps = append(snaps, pool.State())
		}
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
