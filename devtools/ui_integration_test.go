//go:build integration

package devtools_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webUI drives the real Redux DevTools web UI (served by the relay r) in
// headless Chromium, connected to socketPort, through ui.mjs. It waits
// until the UI shows actionType, dispatching keepAlive meanwhile (the UI
// may subscribe after the first messages), and keeps a screenshot in
// testdata/screenshots (git-ignored). With travel "first", the UI then
// moves its time-travel slider to the first state, and webUI waits until
// it did.
func webUI(t *testing.T, r *relay, socketPort int, actionType, shotName, travel string, keepAlive func()) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		t.Fatal("Chromium is not installed (make integration-devtools installs Debian's chromium)")
	}
	shots, err := filepath.Abs(filepath.Join("..", "testdata", "screenshots"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(shots, 0o755))
	shot := filepath.Join(shots, shotName)
	_ = os.Remove(shot)
	ui := start(t, nodeDir(t), "node", "ui.mjs", fmt.Sprint(r.port), actionType, shot, t.TempDir(), fmt.Sprint(socketPort), travel)
	next := 0
	ui.out.waitLine(t, &next, "the UI connected", func(l string) bool { return strings.Contains(l, `"connected":true`) || strings.Contains(l, `"error"`) })

	seen := make(chan string, 1)
	go func() {
		seen <- ui.out.waitLineNoFail(&next, func(l string) bool { return strings.Contains(l, `"seen"`) || strings.Contains(l, `"error"`) }, 90*time.Second)
	}()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case line := <-seen:
			require.Contains(t, line, `"seen":true`, "UI output:\n%s\nrelay:\n%s", ui.out.String(), r.out.String())
			info, err := os.Stat(shot)
			require.NoError(t, err)
			require.Greater(t, info.Size(), int64(10_000), "a real screenshot")
			t.Logf("screenshot: %s", shot)
			if travel != "" {
				line := ui.out.waitLine(t, &next, "the slider moved", func(l string) bool { return strings.Contains(l, `"travelled"`) || strings.Contains(l, `"error"`) })
				require.Contains(t, line, `"travelled":true`, "UI output:\n%s", ui.out.String())
			}
			return
		case <-tick.C:
			keepAlive()
		}
	}
}

func poolStore(t *testing.T) *store.Store[reducers.Pool] {
	t.Helper()
	st, err := store.New(reducers.PoolReducer, reducers.Pool{})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "bot-1", Puppet: "mock"})))
	return st
}

// TestWebUIShowsAPoolAction: the real web UI, connected to the relay, shows
// an action of a pool streamed by a Client.
func TestWebUIShowsAPoolAction(t *testing.T) {
	r := startRelay(t)
	st := poolStore(t)
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(fmt.Sprintf("ws://127.0.0.1:%d", r.port)), devtools.WithName("HA pool"))
	require.NoError(t, err)
	defer c.Close()
	webUI(t, r, r.port, actions.BotRecovered.Type(), "devtools-ui.png", "", func() {
		require.NoError(t, st.Dispatch(actions.BotRecovered.New(actions.BotPayload{Bot: "bot-1"})))
	})
}

// TestWebUIShowsAPoolActionFromTheEndpoint: the same UI (its page still
// served by the relay) connects straight to the Go process's endpoint.
func TestWebUIShowsAPoolActionFromTheEndpoint(t *testing.T) {
	r := startRelay(t)
	st := poolStore(t)
	e, err := devtools.NewEndpoint(st, devtools.WithName("HA pool (embedded)"))
	require.NoError(t, err)
	url := serveEndpoint(t, e)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(url, "/socketcluster/"), "ws://"))
	require.NoError(t, err)
	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	webUI(t, r, p, actions.BotRecovered.Type(), "devtools-ui-endpoint.png", "", func() {
		require.NoError(t, st.Dispatch(actions.BotRecovered.New(actions.BotPayload{Bot: "bot-1"})))
	})
	require.NotZero(t, e.Stats().Sessions)
}

// appState is an application's state with the pool as one slice of it.
type appState struct {
	Pool   reducers.Pool `json:"pool"`
	Logins int           `json:"logins"`
}

// TestWebUISliderTravelsTheStore: the bot logs in, then a user moves the
// real web UI's time-travel slider to the first state, and the store goes
// back to that moment (time travel enabled): the application's slice
// counts no login, while the pool's slice, which is the world outside the
// process, keeps its bot logged in and available.
func TestWebUISliderTravelsTheStore(t *testing.T) {
	r := startRelay(t)
	countLogins := reducers.On(actions.Login, func(n int, _ actions.LoginPayload, _ actions.Meta) int { return n + 1 })
	st, err := store.New(reducers.Combine(
		reducers.Field(func(s appState) reducers.Pool { return s.Pool }, func(s *appState, p reducers.Pool) { s.Pool = p }, reducers.PoolReducer),
		reducers.Field(func(s appState) int { return s.Logins }, func(s *appState, n int) { s.Logins = n }, countLogins),
	), appState{})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "bot-1", Puppet: "mock"})))
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(fmt.Sprintf("ws://127.0.0.1:%d", r.port)),
		devtools.WithName("HA pool"), devtools.WithTimeTravel(true))
	require.NoError(t, err)
	defer c.Close()
	available := func() bool {
		b, ok := st.State().Pool.Bots.Get("bot-1")
		return ok && b.Available
	}
	require.False(t, available(), "bot-1 starts unavailable")
	webUI(t, r, r.port, actions.Login.Type(), "devtools-ui-travel.png", "first", func() {
		require.NoError(t, st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: "bot-1", Self: "me"})))
	})
	eventually(t, "the jump reaches the store", func() bool { return c.Stats().Jumps > 0 && st.State().Logins == 0 })
	assert.True(t, available(), "the pool's slice is not travelled: its bot is still logged in")
	assert.Equal(t, uint64(0), c.Stats().Refused)
}
