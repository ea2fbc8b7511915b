//go:build integration

package devtools_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/hawechaty/hawechaty/devtools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveEndpoint serves e on a free loopback port until the test ends and
// returns its SocketCluster URL.
func serveEndpoint(t *testing.T, e interface {
	Serve(context.Context, net.Listener) error
}) string {
	t.Helper()
	return fmt.Sprintf("ws://%s/socketcluster/", serveOnLoopback(t, e))
}

func TestEndpointServesTheRealSocketClusterClient(t *testing.T) {
	st := newStore(t)
	e, err := devtools.NewEndpoint(st, devtools.WithTimeTravel(true))
	require.NoError(t, err)
	url := serveEndpoint(t, e)

	mon := startMonitor(t, url, "")
	start := mon.waitMessage(t, "START", nil)
	assert.Equal(t, "pool-1", start.InstanceID)
	init := mon.waitMessage(t, "INIT", nil)
	assert.JSONEq(t, `{"count":0,"authorization":"[REDACTED]"}`, init.Payload)

	require.NoError(t, st.Dispatch(add.New(4)))
	act := mon.waitMessage(t, "ACTION", nil)
	assert.Contains(t, act.Payload, `"count":4`)

	// Commands come back through the same socket.
	mon.transmit(t, "respond", map[string]any{"type": "DISPATCH", "action": map[string]any{"type": "JUMP_TO_STATE", "index": 0}, "state": `{"count":0}`})
	eventually(t, "the jump", func() bool { return st.State().Count == 0 })
	assert.GreaterOrEqual(t, e.Stats().Sessions, uint64(1))
}

func TestEndpointRequiresTheSecret(t *testing.T) {
	st := newStore(t)
	e, err := devtools.NewEndpoint(st, devtools.WithSecret("s3cret"))
	require.NoError(t, err)
	url := serveEndpoint(t, e)

	bad := start(t, nodeDir(t), "node", "monitor.mjs", url, `"wrong"`)
	next := 0
	bad.out.waitLine(t, &next, "a refused login", func(l string) bool { return contains(l, "wrong secret") })

	good := startMonitor(t, url, `"s3cret"`)
	good.waitMessage(t, "INIT", nil)
}
