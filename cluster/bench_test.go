package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// cmdCounter counts the commands a client sends (each command of a
// pipeline or transaction once).
type cmdCounter struct{ n atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// benchSays measures sends made one after the other from n1: "local"
// through b1, driven by n1 (the baseline), "forwarded" through b2, driven
// by n2. It reports the Redis commands both processes sent per send.
func benchSays(b *testing.B, addr string) {
	for _, c := range []struct {
		name   string
		bot    string
		remote map[string]string
	}{
		{"local", "b1", nil},
		{"forwarded", "b2", map[string]string{"b2": "n2"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n1 := newFwdNode(b, addr, "n1", true, []string{c.bot}, c.remote)
			var owners map[string]string // n2 drives b2
			if c.remote == nil {
				owners = map[string]string{c.bot: "n1"}
			}
			n2 := newFwdNode(b, addr, "n2", true, []string{c.bot}, owners)
			var cmds cmdCounter
			n1.rdb.AddHook(&cmds)
			n2.rdb.AddHook(&cmds)
			n1.send("warm") // scripts loaded, groups made
			cmds.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if sd := n1.send("s" + strconv.Itoa(i)); sd.Outcome != actions.Delivered {
					b.Fatalf("send %d: %v %s", i, sd.Outcome, sd.Error)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cmds.n.Load())/float64(b.N), "redis-cmds/send")
		})
	}
}

// BenchmarkSayForwarded: a Say on n1 through a bot n2 drives, against a
// Say through a bot of n1's own, on miniredis (for real Redis's numbers,
// see the integration benchmark).
func BenchmarkSayForwarded(b *testing.B) {
	m, _ := feedRedis(b)
	benchSays(b, m.Addr())
}

// benchFollow measures what following the feed of a pool of 1,000 bots,
// all driven by n2, costs n1 per event: reading the stream, decoding,
// folding into the mirror and reducing in the store. The baseline
// dispatches the same actions straight into a store.
func benchFollow(b *testing.B, rdb redis.UniversalClient) {
	const nbots = 1000
	bots := make([]string, nbots)
	for i := range bots {
		bots[i] = fmt.Sprintf("bot%04d", i)
	}
	fact := func(i int) actions.Action {
		bot := bots[i%nbots]
		switch i / nbots % 3 {
		case 0:
			return login(bot)
		case 1:
			return actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: []string{"r" + strconv.Itoa(i%97), "r" + strconv.Itoa(i%89)}})
		default:
			return actions.Logout.New(actions.ReasonPayload{Bot: bot, Reason: "kicked"})
		}
	}
	newStore := func(b *testing.B) *store.Store[reducers.Pool] {
		st, err := store.New(reducers.Config{Node: "n1"}.Defaults().Reducer(), reducers.Pool{})
		require.NoError(b, err)
		require.NoError(b, st.Start(context.Background()))
		b.Cleanup(st.Stop)
		for i, bot := range bots {
			a := actions.Owned.New(actions.OwnedPayload{Bot: bot, Node: "n2", Token: uint64(i + 1)})
			a.Meta.Node, a.Meta.Token = "n2", uint64(i+1)
			require.NoError(b, st.Dispatch(a))
		}
		return st
	}
	b.Run("store-only", func(b *testing.B) {
		st := newStore(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			a := fact(i)
			a.Meta.Node, a.Meta.Token = "n2", uint64(i%nbots+1)
			if err := st.Dispatch(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("feed", func(b *testing.B) {
		ctx := context.Background()
		require.NoError(b, rdb.FlushAll(ctx).Err())
		st := newStore(b)
		f, err := NewFeed(rdb, "n1", FeedOptions{Prefix: testPrefix})
		require.NoError(b, err)
		// The owner's entries, written beforehand (as the fenced script
		// would, without the check).
		p := rdb.Pipeline()
		for i := range b.N {
			a := fact(i)
			raw, _ := a.MarshalJSON()
			p.XAdd(ctx, &redis.XAddArgs{Stream: f.events, Values: []string{"bot", bots[i%nbots], "node", "n2",
				"token", strconv.Itoa(i%nbots + 1), "type", a.Type, "action", string(raw)}})
			if p.Len() == 1000 {
				_, err := p.Exec(ctx)
				require.NoError(b, err)
			}
		}
		_, err = p.Exec(ctx)
		require.NoError(b, err)
		var n atomic.Int64
		all := make(chan struct{})
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			done <- f.Follow(fctx, func(a actions.Action) error {
				err := st.Dispatch(a)
				if n.Add(1) == int64(b.N) {
					close(all)
				}
				return err
			})
		}()
		<-all
		b.StopTimer()
		cancel()
		require.NoError(b, <-done)
	})
}

// BenchmarkFollow1000Bots: the cost of following a 1,000-bot pool's
// feed, per event, on miniredis.
func BenchmarkFollow1000Bots(b *testing.B) {
	_, rdb := feedRedis(b)
	benchFollow(b, rdb)
}
