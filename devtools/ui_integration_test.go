//go:build integration

package devtools_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/require"
)

// TestWebUIShowsAPoolAction drives the real Redux DevTools web UI in
// headless Chromium: it connects to the relay, the pool store dispatches,
// and the UI must show the action by name. The screenshot is kept in
// testdata/screenshots (git-ignored).
func TestWebUIShowsAPoolAction(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		t.Fatal("Chromium is not installed (make integration-devtools installs Debian's chromium)")
	}
	r := startRelay(t)
	shots, err := filepath.Abs(filepath.Join("..", "testdata", "screenshots"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(shots, 0o755))
	shot := filepath.Join(shots, "devtools-ui.png")
	ui := start(t, nodeDir(t), "node", "ui.mjs", fmt.Sprint(r.port), actions.BotRecovered.Type(), shot, t.TempDir())
	next := 0
	ui.out.waitLine(t, &next, "the UI connected", func(l string) bool { return strings.Contains(l, `"connected":true`) || strings.Contains(l, `"error"`) })

	st, err := store.New(reducers.PoolReducer, reducers.Pool{})
	require.NoError(t, err)
	defer st.Stop()
	c, err := devtools.Connect(context.Background(), st, devtools.WithURL(fmt.Sprintf("ws://127.0.0.1:%d", r.port)), devtools.WithName("HA pool"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "bot-1", Puppet: "mock"})))

	// The UI may subscribe after our first messages: keep the pool talking
	// until the UI reports the action, with a deadline.
	seen := make(chan string, 1)
	go func() {
		line := ui.out.waitLineNoFail(&next, func(l string) bool { return strings.Contains(l, `"seen"`) || strings.Contains(l, `"error"`) }, 90*time.Second)
		seen <- line
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
			return
		case <-tick.C:
			require.NoError(t, st.Dispatch(actions.BotRecovered.New(actions.BotPayload{Bot: "bot-1"})))
		}
	}
}
