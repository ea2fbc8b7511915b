package devtools_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawMonitor is the cheapest monitor there is, so that what a test
// measures is the endpoint's side: a TCP connection that upgrades, sends
// the handshake, login and subscribe frames, and never reads again (what
// the endpoint sends waits in the kernel's socket buffers).
func rawMonitor(t testing.TB, addr string) (net.Conn, int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	dialed := time.Now()
	_ = c.SetDeadline(dialed.Add(30 * time.Second))
	fmt.Fprintf(c, "GET /socketcluster/ HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 256), nil) // reads only the head: nothing follows until the frames
	require.NoError(t, err, "no answer to the upgrade %v after the dial", time.Since(dialed))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return c, resp.StatusCode
	}
	for _, f := range []string{
		`{"event":"#handshake","data":{},"cid":1}`,
		`{"event":"login","data":{},"cid":2}`,
		`{"event":"#subscribe","data":{"channel":"log"},"cid":3}`,
	} {
		_, err := c.Write(maskedText(f))
		require.NoError(t, err)
	}
	return c, resp.StatusCode
}

// maskedText is a client's text frame (mask key zero: the payload as is).
func maskedText(s string) []byte {
	b := []byte{0x81}
	if len(s) < 126 {
		b = append(b, 0x80|byte(len(s)))
	} else {
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, s...)
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func TestEndpointMemoryPerMonitor(t *testing.T) {
	const n = 200
	per := monitorCost(t, n)
	t.Logf("%d monitors: %.1f MiB, %.0f bytes (%.1f KiB) each", n, per*n/(1<<20), per, per/1024)
	require.Less(t, per, float64(32<<10), "bytes per monitor")
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// TestEndpointRefusesMonitorsAboveTheLimit: by default 64 monitors; the
// next one gets 503 before any upgrade, and a place that frees up is
// taken again.
func TestEndpointRefusesMonitorsAboveTheLimit(t *testing.T) {
	st := unitStore(t)
	e, err := devtools.NewEndpoint(st)
	require.NoError(t, err)
	addr := serveOnLoopback(t, e)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 64 {
		c, code := rawMonitor(t, addr)
		conns = append(conns, c)
		require.Equal(t, http.StatusSwitchingProtocols, code, "monitor %d", i+1)
	}
	c, code := rawMonitor(t, addr)
	c.Close()
	require.Equal(t, http.StatusServiceUnavailable, code, "monitor 65")
	assert.Equal(t, uint64(1), e.Stats().Refused)

	// One leaves; its place is free once the endpoint has seen it go.
	conns[0].Close()
	waitFor(t, "a monitor's place freed", func() bool {
		c, code := rawMonitor(t, addr)
		conns = append(conns, c)
		return code == http.StatusSwitchingProtocols
	})

	// The option: a lower limit, and nonsense refused.
	e2, err := devtools.NewEndpoint(st, devtools.WithMaxConnections(1))
	require.NoError(t, err)
	addr2 := serveOnLoopback(t, e2)
	c, code = rawMonitor(t, addr2)
	conns = append(conns, c)
	require.Equal(t, http.StatusSwitchingProtocols, code)
	c, code = rawMonitor(t, addr2)
	c.Close()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	_, err = devtools.NewEndpoint(st, devtools.WithMaxConnections(0))
	assert.ErrorContains(t, err, "MaxConnections")
}

// serveOnLoopback serves e on a free loopback port until the test ends.
func serveOnLoopback(t *testing.T, e interface {
	Serve(context.Context, net.Listener) error
}) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return l.Addr().String()
}

// TestListenAndServeOnAPortAloneIsLoopback: ":port" must not listen on
// the machine's other addresses.
func TestListenAndServeOnAPortAloneIsLoopback(t *testing.T) {
	st := unitStore(t)
	e, err := devtools.NewEndpoint(st)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ListenAndServe(ctx, fmt.Sprintf(":%d", port)) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	waitFor(t, "the endpoint listens on 127.0.0.1", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	others := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		others++
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), fmt.Sprint(port)), 5*time.Second)
		if err == nil {
			c.Close()
		}
		assert.Error(t, err, "the endpoint answers on %s", ipn.IP)
	}
	t.Logf("checked %d non-loopback addresses", others)
}

// BenchmarkEndpointMonitors reports what 2,000 idle monitors cost the
// endpoint, in heap and goroutine stacks (B/monitor), once each has its
// START and INIT.
func BenchmarkEndpointMonitors(b *testing.B) {
	const n = 2000
	var per float64
	for b.Loop() {
		per = monitorCost(b, n)
	}
	b.ReportMetric(per, "B/monitor")
	b.ReportMetric(per*n/(1<<20), "MiB/2000")
}

// monitorCost serves an endpoint, connects n raw monitors and returns the
// heap and stack it holds per monitor.
func monitorCost(tb testing.TB, n int) float64 {
	st, err := store.New(func(s int, a actions.Action) int {
		if d, ok := bump.Match(a); ok {
			return s + d
		}
		return s
	}, 0)
	require.NoError(tb, err)
	defer st.Stop()
	e, err := devtools.NewEndpoint(st, devtools.WithMaxConnections(n))
	require.NoError(tb, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, l) }()
	defer func() { cancel(); require.NoError(tb, <-done) }()

	before := heapAndStacks()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, code := rawMonitor(tb, l.Addr().String())
		require.Equal(tb, http.StatusSwitchingProtocols, code)
		conns = append(conns, c)
	}
	waitFor(tb, "every monitor got START and INIT", func() bool { return e.Stats().Sent >= uint64(2*n) })
	return float64(heapAndStacks()-before) / float64(n)
}
