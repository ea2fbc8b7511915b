package ops_test

import (
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/ops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewHealthReportsEachBotsSent: /v1/health's per-bot "sent" is the
// pool's count of that bot's deliveries (Pool.Sent), failed-over sends
// counted for the bot that delivered them.
func TestReviewHealthReportsEachBotsSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 3, false)
		require.NoError(t, f.world.AddContact("alice", "Alice"))
		require.NoError(t, f.pool.Start(t.Context()))
		synctest.Wait()
		h := ops.Handler(f.pool)
		want := map[string]int{"bot-1": 0, "bot-2": 0, "bot-3": 0}
		for range 5 {
			r, err := f.pool.Say(t.Context(), "alice", "hi")
			require.NoError(t, err)
			want[r.Bot]++
		}
		f.bots[0].FailSends(true)
		for range 3 {
			r, err := f.pool.Say(t.Context(), "alice", "hi")
			require.NoError(t, err)
			require.NotEqual(t, "bot-1", r.Bot)
			want[r.Bot]++
		}
		synctest.Wait()
		doc := health(t, h)
		got := map[string]int{}
		for id, b := range doc.Health.Bots {
			got[id] = b.Sent
		}
		assert.Equal(t, want, got)
		assert.Equal(t, 8, doc.Health.Pool.Delivered)
		for id, n := range f.pool.State().Sent.All() {
			assert.Equal(t, n, got[id], id)
		}
	})
}
