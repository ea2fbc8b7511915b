package hawechaty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Routing that matches real accounts, end to end through Say on the mock
// world: contacts known to some bots only, friends removed mid-run,
// sticky affinity, send budgets, inbound copies under other providers'
// IDs, and bots that do not follow the heartbeat contact.

const official = mock.DefaultHeartbeatContact

// routeWorld is a started pool over a mock world.
type routeWorld struct {
	t     *testing.T
	world *mock.World
	pool  *hawechaty.Pool
}

type botSpec struct {
	id   string
	opts []mock.BotOption
}

func newRouteWorld(t *testing.T, contacts []string, bots []botSpec, opts ...hawechaty.Option) *routeWorld {
	t.Helper()
	w := mock.NewWorld()
	t.Cleanup(func() { _ = w.Close() })
	for _, c := range contacts {
		require.NoError(t, w.AddContact(c, c))
	}
	pool, err := hawechaty.New(opts...)
	require.NoError(t, err)
	for _, b := range bots {
		bot, err := w.AddBot(b.id, b.opts...)
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), bot))
	}
	require.NoError(t, pool.Start(t.Context()))
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	synctest.Wait()
	return &routeWorld{t: t, world: w, pool: pool}
}

// deliveredTo counts the world's deliveries of text to target, by bot.
func (rw *routeWorld) deliveredTo(target, text string) map[string]int {
	out := map[string]int{}
	for _, d := range rw.world.Delivered() {
		if d.To == target && d.Text == text {
			out[d.Bot]++
		}
	}
	return out
}

func TestSayToAContactKnownToOneBot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRouteWorld(t, []string{"alice", "bob"}, []botSpec{
			{"b1", []mock.BotOption{mock.WithFriends(official, "alice", "bob")}},
			{"b2", []mock.BotOption{mock.WithFriends(official, "bob")}},
			{"b3", []mock.BotOption{mock.WithFriends(official, "bob")}},
		})
		for i := range 10 {
			r, err := rw.pool.Say(t.Context(), "alice", fmt.Sprint("hi ", i))
			require.NoError(t, err)
			assert.Equal(t, "b1", r.Bot)
			assert.Equal(t, 1, r.Attempts, "no bot that does not know alice was tried")
		}
		bobs := map[string]int{}
		for i := range 6 {
			r, err := rw.pool.Say(t.Context(), "bob", fmt.Sprint("hi ", i))
			require.NoError(t, err)
			bobs[r.Bot]++
		}
		assert.Equal(t, map[string]int{"b1": 2, "b2": 2, "b3": 2}, bobs, "bob is known to all: round robin")
		assert.Zero(t, rw.pool.State().Failovers)
	})
}

func TestFriendRemovedMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRouteWorld(t, []string{"alice"}, []botSpec{{"b1", nil}, {"b2", nil}})
		for i := range 4 {
			_, err := rw.pool.Say(t.Context(), "alice", fmt.Sprint("before ", i))
			require.NoError(t, err)
		}
		require.NoError(t, rw.world.Unfriend("b1", "alice"))
		for i := range 6 {
			text := fmt.Sprint("after ", i)
			r, err := rw.pool.Say(t.Context(), "alice", text)
			require.NoError(t, err, "b2 still knows alice")
			assert.Equal(t, "b2", r.Bot)
			assert.Equal(t, map[string]int{"b2": 1}, rw.deliveredTo("alice", text), "delivered exactly once")
		}
		refused, _ := rw.pool.State().Unreachable.Get("alice")
		assert.Equal(t, []string{"b1"}, refused, "b1 refused once, and was not tried again")
		assert.LessOrEqual(t, rw.pool.State().Failovers, 1)

		require.NoError(t, rw.world.Unfriend("b2", "alice"))
		_, err := rw.pool.Say(t.Context(), "alice", "nobody")
		require.Error(t, err)
		assert.ErrorIs(t, err, hawechaty.ErrUnreachable)
		assert.ErrorIs(t, err, puppet.ErrNotFriend)
		assert.NotErrorIs(t, err, puppet.ErrOutcomeUnknown)
		assert.Empty(t, rw.deliveredTo("alice", "nobody"))
		t.Log(err)

		// A friendship the puppet reports makes the bot usable again.
		require.NoError(t, rw.world.Befriend("b1", "alice"))
		synctest.Wait()
		r, err := rw.pool.Say(t.Context(), "alice", "again")
		require.NoError(t, err)
		assert.Equal(t, "b1", r.Bot)
		for _, b := range []string{"b1", "b2"} {
			up, _ := rw.pool.State().Avail.Get(b)
			assert.True(t, up, "a refusal does not fail %s", b)
		}
	})
}

// App state for a restart from a snapshot.
type restartApp struct{ Pool reducers.Pool }

// TestAffinityThroughSay: 200 conversations keep their bots across a
// bot's recovery, a bot's addition and a restart from the state; only
// the conversations of a bot that could not serve them move. The
// selector says what Say does.
func TestAffinityThroughSay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 200
		var convs []string
		for i := range n {
			convs = append(convs, fmt.Sprintf("c%03d", i))
		}
		opts := []hawechaty.Option{hawechaty.WithAffinity(), hawechaty.WithRateLimit(0, 0, 0)}
		rw := newRouteWorld(t, convs, []botSpec{{"b1", nil}, {"b2", nil}, {"b3", nil}, {"b4", nil}}, opts...)
		sayAll := func(p *hawechaty.Pool, round string) map[string]string {
			t.Helper()
			got := map[string]string{}
			for _, c := range convs {
				want, _ := selectors.ConversationBot(p.State(), c)
				r, err := p.Say(t.Context(), c, round)
				require.NoError(t, err)
				if want != "" {
					assert.Equal(t, want, r.Bot, "the selector tells Say's choice for %s", c)
				}
				got[c] = r.Bot
			}
			return got
		}
		moved := func(a, b map[string]string) int {
			m := 0
			for c := range a {
				if a[c] != b[c] {
					m++
				}
			}
			return m
		}
		home := sayAll(rw.pool, "first")
		assert.Zero(t, moved(home, sayAll(rw.pool, "second")))

		// b2 logs out: its conversations move, and only they.
		b2, _ := rw.world.Bot("b2")
		b2.LogOut()
		synctest.Wait()
		during := sayAll(rw.pool, "b2 down")
		assert.Equal(t, countOf(home, "b2"), moved(home, during))
		t.Logf("b2 down: %d of %d conversations moved, all of them b2's", moved(home, during), n)
		assert.NotContains(t, values(during), "b2")

		// b2 comes back (the pool resets it after FailAfter): nothing moves back.
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		up, _ := rw.pool.State().Avail.Get("b2")
		require.True(t, up, "b2 recovered")
		assert.Zero(t, moved(during, sayAll(rw.pool, "b2 back")), "recovery moves nothing")

		// A bot added: nothing moves to it.
		b5, err := rw.world.AddBot("b5")
		require.NoError(t, err)
		require.NoError(t, rw.pool.Add(t.Context(), b5))
		synctest.Wait()
		assert.Zero(t, moved(during, sayAll(rw.pool, "b5 added")), "an addition moves nothing")

		// A restart from the state (a new process given the snapshot).
		snap, err := json.Marshal(rw.pool.State())
		require.NoError(t, err)
		require.NoError(t, rw.pool.Stop(context.Background()))
		var restored reducers.Pool
		require.NoError(t, json.Unmarshal(snap, &restored))
		sl, err := hawechaty.NewSlice(func(s restartApp) reducers.Pool { return s.Pool }, func(s *restartApp, p reducers.Pool) { s.Pool = p }, opts...)
		require.NoError(t, err)
		st, err := store.New(reducers.Combine(sl.Reducer()), restartApp{Pool: restored}, sl.StoreOptions()...)
		require.NoError(t, err)
		p2, err := sl.Bind(st)
		require.NoError(t, err)
		for _, id := range []string{"b1", "b2", "b3", "b4", "b5"} {
			bot, err := rw.world.AddBot(id) // the same account, a new puppet
			require.NoError(t, err)
			require.NoError(t, p2.Add(t.Context(), bot))
		}
		require.NoError(t, p2.Start(t.Context()))
		defer p2.Stop(context.Background())
		synctest.Wait()
		assert.Zero(t, moved(during, sayAll(p2, "restarted")), "a restart moves nothing")

		// A fresh process without the state agrees on first choices: the
		// hash is fixed (only the conversations that moved while b2 was
		// down go back to their first bot).
		fresh := map[string]string{}
		for _, c := range convs {
			b, _ := reducers.AffinityBot(reducers.Pool{Avail: rw.pool.State().Avail, Available: 1, Bots: rw.pool.State().Bots}, c, func(b string) bool { return b == "b5" })
			fresh[c] = b
		}
		assert.Zero(t, moved(home, fresh), "the first choices are the same in every process")
	})
}

func countOf(m map[string]string, v string) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// A burst over one bot's budget spreads over the bots; when all are over,
// Say waits for a refill within its context, or ends rate limited.
func TestRateLimitThroughSay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRouteWorld(t, []string{"alice"}, []botSpec{{"b1", nil}, {"b2", nil}, {"b3", nil}},
			hawechaty.WithRateLimit(6, time.Minute, 2))
		start := time.Now()
		var mu sync.Mutex
		per := map[string]int{}
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				r, err := rw.pool.Say(t.Context(), "alice", fmt.Sprint("burst ", i))
				if assert.NoError(t, err) {
					mu.Lock()
					per[r.Bot]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, map[string]int{"b1": 2, "b2": 2, "b3": 2}, per, "the burst spread over the bots")
		assert.Equal(t, start, time.Now(), "no send waited")

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := rw.pool.Say(ctx, "alice", "too soon")
		assert.ErrorIs(t, err, hawechaty.ErrRateLimited)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, puppet.ErrOutcomeUnknown)
		assert.Empty(t, rw.deliveredTo("alice", "too soon"))

		r, err := rw.pool.Say(t.Context(), "alice", "waits")
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, time.Since(start), "a bot refills one send in 10 s")
		assert.Equal(t, map[string]int{r.Bot: 1}, rw.deliveredTo("alice", "waits"))
	})
}

// Bots on different providers see one message under different IDs: the
// application gets it once. The same text again outside the window is a
// new message.
func TestInboundAcrossProviders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rw := newRouteWorld(t, []string{"carol"}, []botSpec{
			{"b1", []mock.BotOption{mock.WithProvider("padlocal")}},
			{"b2", []mock.BotOption{mock.WithProvider("wxwork")}},
		})
		require.NoError(t, rw.world.AddRoom("r", "room", "carol", "b1", "b2"))
		_, err := rw.world.Post("carol", "r", "hello")
		require.NoError(t, err)
		synctest.Wait()
		time.Sleep(reducers.DefaultFingerprint + time.Second)
		_, err = rw.world.Post("carol", "r", "hello")
		require.NoError(t, err)
		synctest.Wait()
		var got []string
		for range 2 {
			select {
			case m := <-rw.pool.Messages():
				got = append(got, m.Text)
			default:
			}
		}
		assert.Equal(t, []string{"hello", "hello"}, got, "once per Post")
		select {
		case m := <-rw.pool.Messages():
			t.Errorf("a copy reached the application: %+v", m)
		default:
		}
	})
}

// syncBuffer is a log sink that slog's handler may write from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A bot that does not follow the heartbeat contact is told in Health, in
// ops and in the log, and is dinged through the puppet protocol: it stays
// available through silence.
func TestHeartbeatContactNotFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		rw := newRouteWorld(t, []string{"alice"}, []botSpec{
			{"loner", []mock.BotOption{mock.WithFriends("alice")}},
			{"fan", nil},
		}, hawechaty.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		assert.Equal(t, []string{"loner"}, rw.pool.Health().Unfollowed)
		assert.Contains(t, logs.String(), "does not follow the heartbeat contact")
		assert.Contains(t, logs.String(), "bot=loner")

		rec := httptest.NewRecorder()
		ops.Handler(rw.pool).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/health", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		var doc ops.Health
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		assert.True(t, doc.Health.Bots["loner"].NoHeartbeatContact)
		assert.False(t, doc.Health.Bots["fan"].NoHeartbeatContact)

		time.Sleep(10 * time.Minute) // silence: dings every minute
		synctest.Wait()
		for _, b := range []string{"loner", "fan"} {
			up, _ := rw.pool.State().Avail.Get(b)
			assert.True(t, up, "%s answered its dings", b)
		}
		assert.Empty(t, rw.deliveredTo(official, "ding")["loner"], "loner never messaged the official account")
		assert.NotZero(t, rw.deliveredTo(official, "ding")["fan"])
	})
}
