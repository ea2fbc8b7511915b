package ops_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The DevTools connections the metrics read.
var (
	_ ops.DevTools = (*devtools.Client[reducers.Pool])(nil)
	_ ops.DevTools = (*devtools.Endpoint[reducers.Pool])(nil)
)

// fakeDevTools reports the stats it is given.
type fakeDevTools struct{ sent, dropped atomic.Uint64 }

func (f *fakeDevTools) Stats() devtools.Stats {
	return devtools.Stats{Sent: f.sent.Load(), Dropped: f.dropped.Load()}
}

// storeSource reads a store of the pool's state.
type storeSource struct{ st *store.Store[reducers.Pool] }

func (s storeSource) State() reducers.Pool { return s.st.State() }

// The epic queue gauge is the watched store's backlog: an epic that lags
// shows, and it falls to 0 when the epic catches up.
func TestMetricsEpicQueueLength(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		slow := func(_ context.Context, in rxgo.Observable, _ store.StateStream[reducers.Pool]) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) {
				items := in.Observe(rxgo.WithContext(ctx))
				select {
				case <-release:
				case <-ctx.Done():
					return
				}
				for range items {
				}
			}})
		}
		st, err := store.New(reducers.Config{}.Defaults().Reducer(), reducers.Pool{}, store.WithEpic("slow", slow))
		require.NoError(t, err)
		defer st.Stop()
		reg := prometheus.NewRegistry()
		m, err := ops.NewMetrics(storeSource{st}, ops.WithRegisterer(reg))
		require.NoError(t, err)
		defer m.Close()
		_, ok := gather(t, reg)["hawechaty_epic_queue_length{}"]
		assert.False(t, ok, "no store watched: no gauge")
		require.NoError(t, ops.Watch(m, st, func(s reducers.Pool) reducers.Pool { return s }))
		require.NoError(t, st.Start(t.Context()))
		for range 1000 {
			require.NoError(t, st.Dispatch(actions.Heartbeat.New(actions.BotPayload{Bot: "nobody"})))
		}
		synctest.Wait()
		queued := gather(t, reg)["hawechaty_epic_queue_length{}"].value
		assert.Equal(t, float64(st.EpicBacklog()), queued)
		assert.Greater(t, queued, 400.0, "the slow epic's actions wait")
		close(release)
		synctest.Wait()
		assert.Equal(t, 0.0, gather(t, reg)["hawechaty_epic_queue_length{}"].value, "caught up")
	})
}

// The frames DevTools sent and dropped, and the events a slow reader of
// Pool.Events lost, after a story in virtual time: a bot waits for its
// QR scan with a new code every second, a reader of the events never
// reads, and the bot is scanned after 10 s.
func TestMetricsOfDevToolsAndEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		q, err := world.AddBot("bot-q", mock.WithQRLogin("qr", time.Second))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithEventBuffer(2))
		require.NoError(t, err)
		defer pool.Stop(context.Background())
		require.NoError(t, pool.Add(t.Context(), q))
		a, b := &fakeDevTools{}, &fakeDevTools{}
		reg := prometheus.NewRegistry()
		m, err := ops.Instrument(pool, ops.WithRegisterer(reg), ops.WithDevTools(a, b))
		require.NoError(t, err)
		defer m.Close()
		_, err = ops.NewMetrics(pool, ops.WithDevTools(nil))
		require.ErrorContains(t, err, "WithDevTools(nil)")

		unread := pool.Events(t.Context())
		require.NoError(t, pool.Start(t.Context()))
		time.Sleep(10 * time.Second) // codes #1 to #11
		synctest.Wait()
		a.sent.Store(5)
		b.sent.Store(7)
		b.dropped.Store(3)
		got := gather(t, reg)
		assert.Equal(t, 1.0, got["hawechaty_bots{status=unregistered}"].value, "waits for its scan")
		assert.Equal(t, 8.0, got["hawechaty_events_dropped_total{}"].value, "11 codes for a buffer of 2 and one on its way")
		assert.Equal(t, 11.0, got["hawechaty_actions_total{type=bot/SCAN}"].value)
		assert.Equal(t, 12.0, got["hawechaty_devtools_frames_sent_total{}"].value, "summed")
		assert.Equal(t, 3.0, got["hawechaty_devtools_frames_dropped_total{}"].value)
		// The pool's epics keep up; an epic that reads no actions (the
		// clock reads states) leaves its mailbox to the collector.
		queued, ok := got["hawechaty_epic_queue_length{}"]
		require.True(t, ok)
		assert.LessOrEqual(t, queued.value, float64(pool.Store().Seq()))

		require.NoError(t, q.ScanQR())
		synctest.Wait()
		got = gather(t, reg)
		assert.Equal(t, 1.0, got["hawechaty_bots{status=connected}"].value)
		assert.Equal(t, 13.0, got["hawechaty_actions_total{type=bot/SCAN}"].value, "scanned, confirmed")
		assert.Equal(t, float64(pool.EventsDropped()), got["hawechaty_events_dropped_total{}"].value)
		<-unread // the reader wakes up: told of the loss first
		lost, ok := (<-unread).(hawechaty.EventsDropped)
		require.True(t, ok)
		assert.Positive(t, lost.Count)

		mfs, err := reg.Gather()
		require.NoError(t, err)
		problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
		require.NoError(t, err)
		assert.Empty(t, problems)
	})
}
