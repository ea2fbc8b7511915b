package hawechaty_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The state with this session's fields (contacts, refusals, sticky
// conversations, send budgets, fingerprints, a send throttled and
// waiting) survives JSON, and a jump to the decoded state keeps the pool
// working: the conversations stay on their bots, the throttled send goes
// out at the refill, budgets still hold.
func TestJSONRoundTripOfRoutingState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		for _, c := range []string{"alice", "bob", "carol"} {
			require.NoError(t, world.AddContact(c, c))
		}
		a, err := world.AddBot("bot-a")
		require.NoError(t, err)
		b, err := world.AddBot("bot-b", mock.WithFriends("alice", "carol", "bot-a"))
		require.NoError(t, err)
		pool := startPool(t, []hawechaty.Option{hawechaty.WithAffinity(), hawechaty.WithRateLimit(2, time.Minute, 2)}, a, b)
		defer pool.Stop(context.Background())

		sticky := map[string]string{}
		for _, to := range []string{"alice", "bob", "carol"} {
			r, err := pool.Say(t.Context(), to, "hello "+to)
			require.NoError(t, err)
			sticky[to] = r.Bot
		}
		assert.Equal(t, "bot-a", sticky["bob"], "bob is bot-a's only")
		require.NoError(t, world.Unfriend("bot-a", "carol"))
		_, err = world.Post("alice", "bot-a", "hi there")
		require.NoError(t, err)
		synctest.Wait()
		<-pool.Messages()

		// bot-a has spent its budget: a send to bob waits for its refill.
		_, err = pool.Say(t.Context(), "bob", "again")
		require.NoError(t, err)
		waiting := make(chan error, 1)
		go func() {
			_, err := pool.Say(t.Context(), "bob", "throttled")
			waiting <- err
		}()
		synctest.Wait()
		before := pool.State()
		require.Equal(t, 1, before.Sends.Len(), "the throttled send is in the state")
		require.NotZero(t, before.Buckets.Len())
		require.NotZero(t, before.Sticky.Len())
		require.NotZero(t, before.Contacts.Len())
		require.NotZero(t, before.Prints.Len())

		data, err := json.Marshal(before)
		require.NoError(t, err)
		var decoded reducers.Pool
		require.NoError(t, json.Unmarshal(data, &decoded))
		again, err := json.Marshal(decoded)
		require.NoError(t, err)
		assert.JSONEq(t, string(data), string(again))
		for conv, bot := range sticky {
			got, ok := decoded.StickyBot(conv)
			assert.True(t, ok && got == bot, "%s sticks to %s, decoded %s", conv, bot, got)
		}
		for id, bk := range before.Buckets.All() {
			got, ok := decoded.Buckets.Get(id)
			assert.True(t, ok && got.Tokens == bk.Tokens && got.At.Equal(bk.At), "bucket %s", id)
		}
		for id, at := range before.Prints.All() {
			got, _ := decoded.Prints.Get(id)
			assert.True(t, got.Equal(at), "print %s", id)
		}

		require.NoError(t, pool.Store().Replace(decoded, "devtools"))
		select {
		case err := <-waiting:
			t.Fatalf("the throttled send ended at the jump: %v", err)
		default:
		}
		time.Sleep(time.Minute)
		require.NoError(t, <-waiting, "the throttled send after the refill")
		for conv, bot := range sticky {
			if conv == "carol" && bot == "bot-a" {
				continue // bot-a is no longer carol's friend
			}
			time.Sleep(time.Minute)
			r, err := pool.Say(t.Context(), conv, "after")
			require.NoError(t, err)
			assert.Equal(t, bot, r.Bot, conv)
		}
		// Budgets still hold: a burst past them waits, then is rate limited.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		var limited int
		for i := range 6 {
			_, err := pool.Say(ctx, "bob", fmt.Sprint("burst ", i))
			if errors.Is(err, hawechaty.ErrRateLimited) {
				limited++
			}
		}
		assert.NotZero(t, limited)
	})
}

// Many Says to one conversation at once under affinity while its bots
// fail sends by turns: each Say returns once, a delivered Say was
// delivered once, a "not sent" one was not delivered, and the
// conversation ends on one bot.
func TestAffinityConcurrentSaysWhileBotsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, bots := threeBots(t)
		pool := startPool(t, []hawechaty.Option{hawechaty.WithAffinity(), hawechaty.WithRateLimit(0, 0, 0)},
			bots[0], bots[1], bots[2])
		defer pool.Stop(context.Background())
		const n = 60
		type said struct {
			text string
			r    hawechaty.Receipt
			err  error
		}
		results := make(chan said, n)
		for i := range n {
			go func() {
				text := fmt.Sprint("m", i)
				r, err := pool.Say(t.Context(), "alice", text)
				results <- said{text, r, err}
			}()
			if i%10 == 5 {
				bots[(i/10)%3].FailSends(true)
				bots[(i/10+2)%3].FailSends(false)
			}
		}
		got := map[string]said{}
		for range n {
			s := <-results
			got[s.text] = s
		}
		synctest.Wait()
		count := map[string]int{}
		for _, d := range world.Delivered() {
			if d.To == "alice" {
				count[d.Text]++
			}
		}
		for text, s := range got {
			switch {
			case s.err == nil:
				assert.Equal(t, 1, count[text], "%s delivered %d times", text, count[text])
			default:
				assert.Zero(t, count[text], "%s failed (%v) but was delivered", text, s.err)
			}
		}
		assert.Len(t, got, n)
		assert.Zero(t, pool.State().Sends.Len())
		bot, ok := pool.State().StickyBot("alice")
		assert.True(t, ok, "alice sticks to %q", bot)
	})
}
