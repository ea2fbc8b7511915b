package hawechaty_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/samber/lo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tellEvent renders an event as "time kind details", time since start.
func tellEvent(start time.Time, ev hawechaty.Event) string {
	at := ev.Meta().Time.Sub(start)
	var s string
	switch e := ev.(type) {
	case hawechaty.BotScan:
		s = fmt.Sprintf("scan %s %s %q", e.Bot, e.Status, e.QR.Reveal())
	case hawechaty.BotLogin:
		s = fmt.Sprintf("login %s as %s", e.Bot, e.Self)
	case hawechaty.BotLogout:
		s = fmt.Sprintf("logout %s (%s)", e.Bot, e.Reason)
	case hawechaty.BotFailed:
		s = fmt.Sprintf("failed %s (%s)", e.Bot, e.Reason)
	case hawechaty.BotRecovered:
		s = "recovered " + e.Bot
	case hawechaty.BotReset:
		s = fmt.Sprintf("reset %s #%d err=%v", e.Bot, e.Attempt, e.Err)
	case hawechaty.PoolDown:
		s = "pool down"
	case hawechaty.PoolUp:
		s = "pool up"
	case hawechaty.EventsDropped:
		s = fmt.Sprintf("dropped %d", e.Count)
	default:
		s = fmt.Sprintf("%T", ev)
	}
	return fmt.Sprintf("%v %s", at, s)
}

// drain reads what the channel holds once the bubble is idle.
func drain(start time.Time, ch <-chan hawechaty.Event) []string {
	synctest.Wait()
	out := []string{}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return append(out, "closed")
			}
			out = append(out, tellEvent(start, ev))
			synctest.Wait()
		default:
			return out
		}
	}
}

// inOrder checks that want appears in got in this order, perhaps with
// other lines between.
func inOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	assert.Equal(t, len(want), i, "%q not found in order in %q", want[min(i, len(want)-1)], got)
}

// withoutTime drops the time of rendered events.
func withoutTime(lines []string) []string {
	return lo.Map(lines, func(l string, _ int) string { _, rest, _ := strings.Cut(l, " "); return rest })
}

// A pool's events tell its story: a bot waits for its QR scan (a new
// code every 30 s) until a phone scans it; a bot that goes silent fails
// and is reset; when both are down the pool is, and it is up again with
// the first login.
func TestEventsStory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		world := mock.NewWorld()
		defer world.Close()
		a, err := world.AddBot("bot-a")
		require.NoError(t, err)
		q, err := world.AddBot("bot-q", mock.WithQRLogin("weixin://qr/q", 30*time.Second))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), a))
		require.NoError(t, pool.Add(t.Context(), q))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		events := pool.Events(ctx) // before Start: from the first action on
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())

		got := drain(start, events) // the bots' puppets report side by side
		assert.ElementsMatch(t, []string{
			`0s scan bot-q waiting "weixin://qr/q#1"`,
			"0s login bot-a as bot-a",
			"0s recovered bot-a",
		}, got)
		inOrder(t, got, "0s login bot-a as bot-a", "0s recovered bot-a")
		time.Sleep(45 * time.Second)
		require.NoError(t, q.ScanQR())
		assert.Equal(t, []string{
			`30s scan bot-q waiting "weixin://qr/q#2"`,
			`45s scan bot-q scanned ""`,
			`45s scan bot-q confirmed ""`,
			"45s login bot-q as bot-q",
			"45s recovered bot-q",
		}, drain(start, events))

		a.Kill()
		time.Sleep(3 * time.Minute)
		got = drain(start, events)
		require.NotEmpty(t, got)
		assert.Equal(t, "2m0s failed bot-a (no sign of life for 2m0s after 4 dings)", got[0], "FailAfter after its last dong at 0s")
		// The reset's Stop logs the bot out: its puppet's logout and the
		// reset's end race to the store.
		inOrder(t, withoutTime(got), "reset bot-a #1 err=<nil>", "reset bot-a #2 err=<nil>")
		assert.Contains(t, withoutTime(got), "logout bot-a (stopped)")

		q.Kill()
		time.Sleep(3 * time.Minute)
		got = withoutTime(drain(start, events))
		inOrder(t, got, "failed bot-q (no sign of life for 2m0s after 4 dings)", "pool down", "reset bot-q #1 err=<nil>")
		assert.Contains(t, got, "logout bot-q (stopped)")

		a.Revive() // the next reset logs it in
		time.Sleep(3 * time.Minute)
		inOrder(t, withoutTime(drain(start, events)), "login bot-a as bot-a", "recovered bot-a", "pool up")

		cancel()
		assert.Equal(t, []string{"closed"}, drain(start, events), "unsubscribed when ctx ended")
		assert.Zero(t, pool.EventsDropped())
	})
}

// A QR event prints its payload redacted; Reveal gives it.
func TestEventsScanPayloadIsRedacted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		q, err := world.AddBot("bot-q", mock.WithQRLogin("https://login.example/qr?token=s3cr3t", 0))
		require.NoError(t, err)
		pool, err := hawechaty.New()
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), q))
		events := pool.Events(t.Context())
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		scan, ok := (<-events).(hawechaty.BotScan)
		require.True(t, ok)
		assert.Equal(t, "https://login.example/qr?token=s3cr3t#1", scan.QR.Reveal())
		for _, out := range []string{fmt.Sprint(scan), fmt.Sprintf("%+v", scan), fmt.Sprintf("%#v", scan)} {
			assert.NotContains(t, out, "s3cr3t")
			assert.Contains(t, out, "[REDACTED]")
		}
		state, err := json.Marshal(pool.State())
		require.NoError(t, err)
		assert.NotContains(t, string(state), "s3cr3t", "the state holds no QR payload")
	})
}

// A reader that does not keep up loses the oldest events, never holds
// the pool up, and is told how many it lost; a reader that keeps up
// loses none.
func TestEventsSlowReaderLosesTheOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		world := mock.NewWorld()
		defer world.Close()
		q, err := world.AddBot("bot-q", mock.WithQRLogin("qr", time.Second))
		require.NoError(t, err)
		pool, err := hawechaty.New(hawechaty.WithEventBuffer(3))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), q))
		slow := pool.Events(t.Context())
		fast := pool.Events(t.Context())
		var all []string
		read := make(chan struct{})
		go func() {
			defer close(read)
			for ev := range fast {
				all = append(all, tellEvent(start, ev))
			}
		}()
		require.NoError(t, pool.Start(t.Context()))
		time.Sleep(9 * time.Second) // codes #1 to #10
		synctest.Wait()
		assert.Equal(t, uint64(6), pool.EventsDropped(), "10 codes for a buffer of 3 and one on its way")
		assert.Equal(t, []string{
			`0s scan bot-q waiting "qr#1"`, // the one on its way
			"7s dropped 6",                 // #2 to #7
			`7s scan bot-q waiting "qr#8"`,
			`8s scan bot-q waiting "qr#9"`,
			`9s scan bot-q waiting "qr#10"`,
		}, drain(start, slow))
		require.NoError(t, pool.Stop(context.Background()))
		<-read
		assert.Len(t, all, 10, "the reader that kept up lost nothing")
		assert.Equal(t, []string{"closed"}, drain(start, slow), "closed when the pool stopped")
	})
}

// Events on a stopped pool, or with a context that has ended, is a
// closed channel; WithEventBuffer refuses a size below 1.
func TestEventsEdges(t *testing.T) {
	_, err := hawechaty.New(hawechaty.WithEventBuffer(0))
	require.ErrorContains(t, err, "WithEventBuffer")
	pool, err := hawechaty.New()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, ok := <-pool.Events(ctx)
	assert.False(t, ok, "ctx ended")
	live := pool.Events(t.Context())
	require.NoError(t, pool.Stop(t.Context()))
	_, ok = <-live
	assert.False(t, ok, "closed by Stop")
	_, ok = <-pool.Events(t.Context())
	assert.False(t, ok, "after Stop")
}

// EventOf is a pure function of an action and the state it produced.
func TestEventOf(t *testing.T) {
	st, err := store.New(reducers.Config{}.Defaults().Reducer(), reducers.Pool{})
	require.NoError(t, err)
	require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "b", Puppet: "mock"})))
	s := st.State()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := hawechaty.EventMeta{Time: at, Seq: 7}
	stamp := func(a actions.Action) actions.Action { a.Meta = actions.Meta{Time: at, Seq: 7}; return a }
	qr := actions.NewQR("weixin://x")
	tests := []struct {
		name string
		a    actions.Action
		want hawechaty.Event // nil: none
	}{
		{"scan", actions.Scan.New(actions.ScanPayload{Bot: "b", Status: actions.ScanWaiting, QR: qr}),
			hawechaty.BotScan{EventMeta: m, Bot: "b", Status: actions.ScanWaiting, QR: qr}},
		{"login", actions.Login.New(actions.LoginPayload{Bot: "b", Self: "wxid"}), hawechaty.BotLogin{EventMeta: m, Bot: "b", Self: "wxid"}},
		{"logout", actions.Logout.New(actions.ReasonPayload{Bot: "b", Reason: "kicked"}), hawechaty.BotLogout{EventMeta: m, Bot: "b", Reason: "kicked"}},
		{"failed, as decided", actions.BotFailed.New(actions.ReasonPayload{Bot: "b", Reason: "silence", Decided: true}),
			hawechaty.BotFailed{EventMeta: m, Bot: "b", Reason: "silence"}},
		{"failed, as asked: the decision tells", actions.BotFailed.New(actions.ReasonPayload{Bot: "b", Reason: "op"}), nil},
		{"recovered", actions.BotRecovered.New(actions.BotPayload{Bot: "b"}), hawechaty.BotRecovered{EventMeta: m, Bot: "b"}},
		{"reset ok", actions.ResetDone.New(actions.ResetPayload{Bot: "b", Attempt: 2}), hawechaty.BotReset{EventMeta: m, Bot: "b", Attempt: 2}},
		{"reset failed", actions.ResetDone.New(actions.ResetPayload{Bot: "b", Attempt: 3, Error: "refused"}),
			hawechaty.BotReset{EventMeta: m, Bot: "b", Attempt: 3, Err: errors.New("refused")}},
		{"pool down", actions.PoolFailed.New(actions.Empty{}), hawechaty.PoolDown{EventMeta: m}},
		{"pool up", actions.PoolRecovered.New(actions.Empty{}), hawechaty.PoolUp{EventMeta: m}},
		{"a bot not in the pool", actions.Login.New(actions.LoginPayload{Bot: "gone"}), nil},
		{"a dong is no event", actions.Dong.New(actions.BotPayload{Bot: "b"}), nil},
		{"a heartbeat is no event", actions.Heartbeat.New(actions.BotPayload{Bot: "b"}), nil},
		{"nor a send", actions.SendRequested.New(actions.SendPayload{ID: "s", To: "c", Text: "x"}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := hawechaty.EventOf(stamp(tt.a), s)
			assert.Equal(t, tt.want != nil, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// A pool in an application's store tells the same events.
func TestEventsOfASlice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		world := mock.NewWorld()
		defer world.Close()
		q, err := world.AddBot("bot-q", mock.WithQRLogin("qr", 0), mock.WithLoginDelay(5*time.Second))
		require.NoError(t, err)
		sl, err := hawechaty.NewSlice(func(s App) reducers.Pool { return s.Pool }, func(s *App, p reducers.Pool) { s.Pool = p })
		require.NoError(t, err)
		st, err := store.New(reducers.Combine(sl.Reducer()), App{}, sl.StoreOptions()...)
		require.NoError(t, err)
		pool, err := sl.Bind(st)
		require.NoError(t, err)
		events := pool.Events(t.Context())
		require.NoError(t, pool.Add(t.Context(), q))
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		time.Sleep(5 * time.Second)
		assert.Equal(t, []string{
			`0s scan bot-q waiting "qr#1"`, `5s scan bot-q scanned ""`, `5s scan bot-q confirmed ""`,
			"5s login bot-q as bot-q", "5s recovered bot-q",
		}, drain(start, events))
	})
}
