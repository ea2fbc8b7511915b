package ops_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// series is one gathered sample: a counter's or gauge's value, or a
// histogram's count and sum.
type series struct {
	value, count, sum float64
}

// gather reads every series of reg, keyed "name{l1=v1,l2=v2}" with the
// labels in name order.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]series {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]series{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(ls, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = series{value: m.GetCounter().GetValue()}
			case dto.MetricType_GAUGE:
				out[key] = series{value: m.GetGauge().GetValue()}
			case dto.MetricType_HISTOGRAM:
				out[key] = series{count: float64(m.GetHistogram().GetSampleCount()), sum: m.GetHistogram().GetSampleSum()}
			}
		}
	}
	return out
}

// actionLog counts, by type and by type and bot, the actions a
// subscription saw: what the metrics are checked against.
type actionLog struct {
	byType    map[string]int
	byTypeBot map[string]int // "type bot[ error]"
}

func logOf(sub *store.Subscription[reducers.Pool]) actionLog {
	l := actionLog{byType: map[string]int{}, byTypeBot: map[string]int{}}
	for c := range sub.C() {
		l.byType[c.Action.Type]++
		switch p := c.Action.Payload.(type) {
		case actions.DingPayload:
			l.byTypeBot[c.Action.Type+" "+p.Bot+errMark(p.Error)]++
		case actions.ResetPayload:
			l.byTypeBot[c.Action.Type+" "+p.Bot+errMark(p.Error)]++
		case actions.BotPayload:
			l.byTypeBot[c.Action.Type+" "+p.Bot]++
		}
	}
	return l
}

func errMark(e string) string {
	if e != "" {
		return " error"
	}
	return ""
}

// instrumentedPool makes a pool with opts in world, which knows the
// contact alice, and instruments it on a registry of its own. The
// metrics, the pool and the world are closed in that order when the test
// ends.
func instrumentedPool(t *testing.T, world *mock.World, opts ...hawechaty.Option) (*hawechaty.Pool, *ops.Metrics, *prometheus.Registry) {
	t.Helper()
	t.Cleanup(func() { world.Close() })
	require.NoError(t, world.AddContact("alice", "Alice"))
	pool, err := hawechaty.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	reg := prometheus.NewRegistry()
	m, err := ops.Instrument(pool, ops.WithRegisterer(reg))
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return pool, m, reg
}

// The metrics after a scripted story, in virtual time: three bots, sends
// with a known latency, a failover, an inbound message seen by every bot,
// a bot killed, detected by the heartbeat after exactly FailAfter,
// reset, a send nobody can make, and the bot revived.
func TestMetricsAfterAStory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld(mock.WithSeed(1))
		pool, m, reg := instrumentedPool(t, world, hawechaty.WithSeed(1))
		sub := pool.Store().Subscribe(1 << 16) // the action log the metrics are checked against

		var bots []*mock.Bot
		for i := range 3 {
			b, err := world.AddBot(fmt.Sprintf("bot-%d", i+1))
			require.NoError(t, err)
			b.SetLatency(100 * time.Millisecond)
			bots = append(bots, b)
			require.NoError(t, pool.Add(t.Context(), b))
		}
		require.NoError(t, world.AddRoom("team", "everyone", "alice", "bot-1", "bot-2", "bot-3"))
		require.NoError(t, world.AddRoom("solo", "bot-3 only", "alice", "bot-3"))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()

		say := func(to string) (hawechaty.Receipt, error) {
			r, err := pool.Say(t.Context(), to, "hi")
			synctest.Wait()
			return r, err
		}
		// Six sends, round robin, 100 ms each.
		for range 6 {
			_, err := say("alice")
			require.NoError(t, err)
		}
		// One message seen by three bots: accepted once.
		_, err := world.Post("alice", "team", "hello bots")
		require.NoError(t, err)
		synctest.Wait()
		lastSign := time.Now()
		// bot-1's sends fail as not sent: its send fails over to bot-2.
		bots[0].FailSends(true)
		r, err := say("alice")
		require.NoError(t, err)
		require.Equal(t, 2, r.Attempts)
		bots[0].FailSends(false)

		// bot-3 dies; the heartbeat fails it FailAfter after its last sign
		// of life, and it is reset with backoff.
		bots[2].Kill()
		time.Sleep(time.Until(lastSign.Add(2*time.Minute + 30*time.Second)))
		synctest.Wait()
		require.False(t, mustBot(t, pool, "bot-3").Available)
		_, err = say("solo")
		require.ErrorIs(t, err, hawechaty.ErrNoBot)
		for range 2 {
			_, err := say("alice")
			require.NoError(t, err)
		}
		bots[2].Revive()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		require.True(t, mustBot(t, pool, "bot-3").Available, "revived by a reset")

		require.NoError(t, pool.Stop(context.Background())) // ends the subscriptions
		m.Close()                                           // waits for the last change
		log := logOf(sub)
		got := gather(t, reg)
		if testing.Verbose() {
			for _, k := range slices.Sorted(maps.Keys(got)) {
				t.Logf("%s %+v", k, got[k])
			}
		}
		value := func(key string) float64 {
			t.Helper()
			s, ok := got[key]
			require.True(t, ok, "no series %s", key)
			return s.value
		}

		// What the story makes, exactly.
		for key, want := range map[string]float64{
			"hawechaty_sends_total{outcome=delivered}":                   9,
			"hawechaty_sends_total{outcome=no_bot}":                      1,
			"hawechaty_sends_total{outcome=unknown}":                     0,
			"hawechaty_sends_total{outcome=permanent}":                   0,
			"hawechaty_sends_total{outcome=canceled}":                    0,
			"hawechaty_sends_total{outcome=abandoned}":                   0,
			"hawechaty_send_failovers_total{}":                           1,
			"hawechaty_send_attempts_total{bot=bot-1,outcome=not_sent}":  1,
			"hawechaty_send_attempts_total{bot=bot-1,outcome=delivered}": 3,
			"hawechaty_send_attempts_total{bot=bot-2,outcome=delivered}": 4,
			"hawechaty_send_attempts_total{bot=bot-3,outcome=delivered}": 2,
			"hawechaty_bot_failures_total{bot=bot-3,cause=silence}":      1,
			"hawechaty_bot_recoveries_total{bot=bot-3}":                  1,
			"hawechaty_inbound_messages_total{result=accepted}":          1,
			"hawechaty_inbound_messages_total{result=duplicate}":         2,
			"hawechaty_inbound_messages_total{result=own}":               0,
			"hawechaty_inbound_messages_total{result=ignored}":           0,
			"hawechaty_pool_failures_total{}":                            0,
			"hawechaty_metrics_changes_dropped_total{}":                  0,
			"hawechaty_actions_total{type=send/REQUESTED}":               10,
			"hawechaty_actions_total{type=bot/ADDED}":                    3,
			"hawechaty_bots{status=connected}":                           3,
			"hawechaty_bots{status=disconnected}":                        0,
			"hawechaty_bot_available{bot=bot-3}":                         1,
			"hawechaty_bot_reset_attempt{bot=bot-3}":                     0,
			"hawechaty_pool_down{}":                                      0,
			"hawechaty_sends_in_flight{}":                                0,
		} {
			assert.Equal(t, want, value(key), key)
		}
		delivered := got["hawechaty_send_duration_seconds{outcome=delivered}"]
		assert.Equal(t, float64(9), delivered.count)
		assert.InDelta(t, 0.9, delivered.sum, 1e-9, "9 sends of 100 ms (the failed attempt took none)")
		assert.Equal(t, series{count: 1, sum: 0}, got["hawechaty_send_duration_seconds{outcome=no_bot}"])
		assert.Equal(t, series{count: 1, sum: 120}, got["hawechaty_bot_detection_delay_seconds{cause=silence}"], "found exactly FailAfter after its last sign of life")
		for key := range got {
			assert.NotRegexp(t, `failures_total\{bot=bot-[12]|recoveries_total\{bot=bot-[12]`, key, "bots 1 and 2 never failed")
		}

		// What depends on the heartbeat's jitter, against the actions.
		resets, dings := 0, 0
		for _, b := range []string{"bot-1", "bot-2", "bot-3"} {
			for _, res := range []string{"", " error"} {
				dingKey := "hawechaty_bot_dings_total{bot=" + b + ",result=" + map[string]string{"": "sent", " error": "error"}[res] + "}"
				assert.Equal(t, float64(log.byTypeBot["bot/DING "+b+res]), got[dingKey].value, dingKey)
				resetKey := "hawechaty_bot_resets_total{bot=" + b + ",result=" + map[string]string{"": "ok", " error": "error"}[res] + "}"
				assert.Equal(t, float64(log.byTypeBot["bot/RESET_DONE "+b+res]), got[resetKey].value, resetKey)
				dings += log.byTypeBot["bot/DING "+b+res]
				resets += log.byTypeBot["bot/RESET_DONE "+b+res]
			}
			assert.Equal(t, float64(log.byTypeBot["bot/DONG "+b]), got["hawechaty_bot_dongs_total{bot="+b+"}"].value, b)
		}
		assert.Greater(t, dings, 5, "bot-3 dinged before it failed, the others while silent")
		assert.Greater(t, resets, 1, "bot-3 reset with backoff")
		assert.Positive(t, got["hawechaty_bot_dongs_total{bot=bot-1}"].value)
		for typ, n := range log.byType {
			assert.Equal(t, float64(n), value("hawechaty_actions_total{type="+typ+"}"), typ)
		}

		// The exposition passes the linter promtool check metrics runs.
		mfs, err := reg.Gather()
		require.NoError(t, err)
		problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
		require.NoError(t, err)
		assert.Empty(t, problems)
	})
}

// Sends cut short: abandoned by their caller during an attempt (the
// reducer forgets such a send when its attempt ends), ended with an
// unknown outcome, canceled while waiting for a bot; and the pool going
// down and up.
func TestMetricsOfSendsCutShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		pool, m, reg := instrumentedPool(t, world, hawechaty.WithWaitForBot(), hawechaty.WithSendTimeout(10*time.Second), hawechaty.WithEjectAfter(100))
		b, err := world.AddBot("bot-1")
		require.NoError(t, err)
		d := &deaf{Bot: b}
		require.NoError(t, pool.Add(t.Context(), d))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()

		// Abandoned: the caller gives up after 1 s, during the attempt,
		// which goes on to the send timeout (10 s): a hung bot's failure.
		b.Hang(false)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err = pool.Say(ctx, "alice", "one")
		cancel()
		var se *hawechaty.SendError
		require.ErrorAs(t, err, &se)
		require.Equal(t, actions.Abandoned, se.Outcome)
		b.ClearFaults()

		// Delivered after its caller left: the puppet ignores the caller's
		// context and delivers 5 s after the request; the caller was told
		// "abandoned" after 1.1 s and the reducer forgot the send (an
		// orphan) when the attempt ended.
		d.deaf.Store(int64(5 * time.Second))
		ctx, cancel = context.WithTimeout(t.Context(), time.Second)
		_, err = pool.Say(ctx, "alice", "one and a half")
		cancel()
		require.ErrorAs(t, err, &se)
		require.Equal(t, actions.Abandoned, se.Outcome)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		d.deaf.Store(0)
		_, ok := pool.State().Sends.Get(se.ID)
		require.False(t, ok, "forgotten")
		b.Hang(false)

		// Unknown: nobody gives up; the attempt times out.
		_, err = pool.Say(t.Context(), "alice", "two")
		require.ErrorAs(t, err, &se)
		require.Equal(t, actions.Unknown, se.Outcome)
		b.ClearFaults()

		// Canceled while waiting for a bot: an operator fails the only bot,
		// the pool is down, and the caller gives up after 500 ms, before the
		// bot's reset brings it back.
		require.NoError(t, pool.Store().Dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "bot-1", Reason: "maintenance"})))
		ctx, cancel = context.WithTimeout(t.Context(), 500*time.Millisecond)
		_, err = pool.Say(ctx, "alice", "three")
		cancel()
		require.ErrorAs(t, err, &se)
		require.Equal(t, actions.Canceled, se.Outcome)
		assert.Equal(t, 1.0, gather(t, reg)["hawechaty_pool_down{}"].value)
		time.Sleep(time.Minute)
		synctest.Wait()
		require.True(t, mustBot(t, pool, "bot-1").Available)

		require.NoError(t, pool.Stop(context.Background()))
		m.Close()
		got := gather(t, reg)
		assert.Equal(t, 1.0, got["hawechaty_sends_total{outcome=abandoned}"].value)
		assert.Equal(t, series{count: 1, sum: 10}, got["hawechaty_send_duration_seconds{outcome=abandoned}"])
		assert.Equal(t, 1.0, got["hawechaty_sends_total{outcome=delivered}"].value, "the orphan")
		assert.Equal(t, series{count: 1, sum: 5}, got["hawechaty_send_duration_seconds{outcome=delivered}"])
		assert.Equal(t, 1.0, got["hawechaty_sends_total{outcome=unknown}"].value)
		assert.Equal(t, series{count: 1, sum: 10}, got["hawechaty_send_duration_seconds{outcome=unknown}"])
		assert.Equal(t, 1.0, got["hawechaty_sends_total{outcome=canceled}"].value)
		assert.Equal(t, series{count: 1, sum: 0.5}, got["hawechaty_send_duration_seconds{outcome=canceled}"])
		assert.Equal(t, 2.0, got["hawechaty_send_attempts_total{bot=bot-1,outcome=unknown}"].value)
		assert.Equal(t, 1.0, got["hawechaty_send_attempts_total{bot=bot-1,outcome=delivered}"].value)
		assert.Equal(t, 1.0, got["hawechaty_bot_failures_total{bot=bot-1,cause=operator}"].value)
		assert.Equal(t, 1.0, got["hawechaty_bot_detection_delay_seconds{cause=operator}"].count)
		assert.Equal(t, 1.0, got["hawechaty_bot_recoveries_total{bot=bot-1}"].value)
		assert.Equal(t, 1.0, got["hawechaty_pool_failures_total{}"].value)
		assert.Equal(t, 0.0, got["hawechaty_pool_down{}"].value)
	})
}

// deaf is a mock bot whose Say, while deaf holds a duration, ignores its
// context and delivers after that long.
type deaf struct {
	*mock.Bot
	deaf atomic.Int64
}

func (d *deaf) Say(ctx context.Context, to, text string) error {
	if wait := time.Duration(d.deaf.Load()); wait > 0 {
		time.Sleep(wait)
		return d.Bot.Say(context.WithoutCancel(ctx), to, text)
	}
	return d.Bot.Say(ctx, to, text)
}

// Metrics made while the pool runs count what happens after; a removed
// bot's series go; action types nobody defined share one label value.
func TestMetricsWatchARunningPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 2, true)
		require.NoError(t, f.world.AddContact("alice", "Alice"))
		for range 3 {
			_, err := f.pool.Say(t.Context(), "alice", "before")
			require.NoError(t, err)
		}
		reg := prometheus.NewRegistry()
		m, err := ops.Instrument(f.pool, ops.WithRegisterer(reg))
		require.NoError(t, err)
		defer m.Close()
		for range 2 {
			_, err := f.pool.Say(t.Context(), "alice", "after")
			require.NoError(t, err)
		}
		require.NoError(t, f.pool.Store().Dispatch(actions.Action{Type: "app/NOT_DEFINED"}))
		synctest.Wait()
		got := gather(t, reg)
		assert.Equal(t, 2.0, got["hawechaty_sends_total{outcome=delivered}"].value)
		assert.Equal(t, 2.0, got["hawechaty_actions_total{type=send/REQUESTED}"].value)
		assert.Equal(t, 1.0, got["hawechaty_actions_total{type=unregistered}"].value)
		assert.Equal(t, 1.0, got["hawechaty_send_attempts_total{bot=bot-1,outcome=delivered}"].value)
		assert.Equal(t, 1.0, got["hawechaty_send_attempts_total{bot=bot-2,outcome=delivered}"].value)
		assert.Equal(t, 1.0, got["hawechaty_bot_available{bot=bot-2}"].value)

		// bot-2 fails and recovers: a recovery, since it was up when the
		// metrics began.
		require.NoError(t, f.pool.Store().Dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "bot-2", Reason: "test"})))
		time.Sleep(time.Minute)
		synctest.Wait()
		got = gather(t, reg)
		assert.Equal(t, 1.0, got["hawechaty_bot_failures_total{bot=bot-2,cause=operator}"].value)
		assert.Equal(t, 1.0, got["hawechaty_bot_recoveries_total{bot=bot-2}"].value)

		require.NoError(t, f.pool.Remove(t.Context(), "bot-2"))
		synctest.Wait()
		for key := range gather(t, reg) {
			assert.NotContains(t, key, "bot=bot-2", "a removed bot's series are deleted")
		}
	})
}

// A pool in an application's store: NewMetrics, then Watch with the lens.
func TestMetricsOfASlice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type app struct {
			Pool  reducers.Pool
			Other int
		}
		world := mock.NewWorld()
		defer world.Close()
		require.NoError(t, world.AddContact("alice", "Alice"))
		get := func(s app) reducers.Pool { return s.Pool }
		sl, err := hawechaty.NewSlice(get, func(s *app, p reducers.Pool) { s.Pool = p })
		require.NoError(t, err)
		st, err := store.New(reducers.Combine(sl.Reducer()), app{}, sl.StoreOptions()...)
		require.NoError(t, err)
		pool, err := sl.Bind(st)
		require.NoError(t, err)
		defer pool.Stop(context.Background())

		reg := prometheus.NewRegistry()
		_, err = ops.Instrument(pool, ops.WithRegisterer(reg))
		require.ErrorIs(t, err, ops.ErrNoStore)
		regA := prometheus.WrapRegistererWith(prometheus.Labels{"pool": "a"}, reg)
		m, err := ops.NewMetrics(pool, ops.WithRegisterer(regA))
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, ops.Watch(m, st, get))
		require.ErrorIs(t, ops.Watch(m, st, get), ops.ErrWatching)
		_, err = ops.NewMetrics(pool, ops.WithRegisterer(regA))
		var are prometheus.AlreadyRegisteredError
		require.ErrorAs(t, err, &are, "one pool's metrics per registerer")
		other, err := ops.NewMetrics(pool, ops.WithRegisterer(prometheus.WrapRegistererWith(prometheus.Labels{"pool": "b"}, reg)))
		require.NoError(t, err, "several pools in one registry, each under its label")
		other.Close()
		require.ErrorIs(t, ops.Watch(other, st, get), ops.ErrClosed)

		b, err := world.AddBot("bot-1")
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), b))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		_, err = pool.Say(t.Context(), "alice", "hi")
		require.NoError(t, err)
		synctest.Wait()
		got := gather(t, reg)
		assert.Equal(t, 1.0, got["hawechaty_sends_total{outcome=delivered,pool=a}"].value)
		assert.Equal(t, 0.0, got["hawechaty_sends_total{outcome=delivered,pool=b}"].value, "b does not watch")
		assert.Equal(t, 1.0, got["hawechaty_bots{pool=a,status=connected}"].value)
		assert.Equal(t, 1.0, got["hawechaty_bots{pool=b,status=connected}"].value, "b's gauges read the state")
		assert.Equal(t, 1.0, got["hawechaty_actions_total{pool=a,type=bot/ADDED}"].value)
	})
}
