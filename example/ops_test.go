package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relayStats stands for the -devtools client.
type relayStats struct{}

func (relayStats) Stats() devtools.Stats { return devtools.Stats{Sent: 42} }

// -http serves the operations endpoints and the metrics until stopped.
func TestServeOps(t *testing.T) {
	pool, err := hawechaty.New()
	require.NoError(t, err)
	defer pool.Stop(context.Background())
	var out bytes.Buffer
	addr, stop, err := serveOps(&out, pool, "127.0.0.1:0", ops.WithDevTools(relayStats{}))
	require.NoError(t, err)
	defer stop()
	assert.Equal(t, "operations on http://"+addr+": /healthz /readyz /v1/health /metrics\n", out.String())
	for path, want := range map[string]string{
		"/healthz":   "ok",
		"/readyz":    "not ready: 0 of 0 bots available, 1 needed",
		"/v1/health": `"status": "down"`,
		"/metrics":   "hawechaty_bots{status=\"connected\"} 0",
	} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Contains(t, string(body), want, path)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "go_goroutines", "the Go runtime's metrics too")
	assert.Contains(t, string(body), "hawechaty_devtools_frames_sent_total 42", "-devtools adds its frames")
	assert.Contains(t, string(body), "hawechaty_events_dropped_total 0")
	stop()
	_, err = http.Get("http://" + addr + "/healthz")
	assert.Error(t, err, "stopped")
}
