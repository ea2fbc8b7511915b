//go:build integration

package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// The real-Prometheus suite (make integration-prometheus): Debian's
// prometheus scrapes a running pool served by ops.Handler, and its HTTP
// API tells the number of available bots and the count of sends before
// and after a bot is killed. It fails, never skips, when prometheus or
// promtool is missing.

// tool finds a binary: $env, else PATH.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	require.NoError(t, err, "%s is needed (Debian's prometheus package; make integration-prometheus installs it), or set %s", name, env)
	return p
}

// eventually polls cond every 50 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, within, state)
		}
		<-tick.C
	}
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// promServer is a prometheus process the test started.
type promServer struct {
	base string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

// startPrometheus runs prometheus on 127.0.0.1 with a free port and a
// temporary directory, scraping target every 250 ms, and waits until it
// is ready. The test's cleanup stops it.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: hawechaty
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, target), 0o600))
	var last error
attempts:
	for range 3 { // the free port may be taken by the time prometheus binds it
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		var out bytes.Buffer
		cmd := exec.Command(bin,
			"--config.file="+cfg,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--log.level=warn")
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		p := &promServer{base: "http://" + addr, cmd: cmd, out: &out}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		for {
			// Ready means this prometheus answers: another suite's
			// server may have taken the port first (then prometheus
			// exits, and the next attempt takes another port), and its
			// 200 is not prometheus's.
			if resp, err := http.Get(p.base + "/-/ready"); err == nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("Prometheus Server is Ready")) {
					tick.Stop()
					t.Cleanup(stop)
					return p
				}
			}
			select {
			case err := <-exited:
				tick.Stop()
				last = fmt.Errorf("prometheus exited: %v: %s", err, out.String())
				continue attempts
			case <-tick.C:
			}
			if time.Now().After(deadline) {
				tick.Stop()
				stop()
				last = fmt.Errorf("prometheus not ready within 30s: %s", out.String())
				continue attempts
			}
		}
	}
	t.Fatal(last)
	return nil
}

// query asks Prometheus for an instant vector and returns the value of
// its only sample; found is false for an empty result.
func (p *promServer) query(t *testing.T, q string) (v float64, found bool) {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", q, body)
	var r struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &r), string(body))
	require.Equal(t, "success", r.Status, string(body))
	require.Equal(t, "vector", r.Data.ResultType)
	switch len(r.Data.Result) {
	case 0:
		return 0, false
	case 1:
	default:
		t.Fatalf("%s: %d samples, want one: %s", q, len(r.Data.Result), body)
	}
	s, ok := r.Data.Result[0].Value[1].(string)
	require.True(t, ok, string(body))
	v, err = strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return v, true
}

func TestPrometheusScrapesAPoolThatLosesABot(t *testing.T) {
	started := time.Now()
	promBin := tool(t, "HAWECHATY_PROMETHEUS", "prometheus")
	promtool := tool(t, "HAWECHATY_PROMTOOL", "promtool")

	// A pool of three mock bots in real time, with short timings.
	world := mock.NewWorld(mock.WithSeed(1), mock.WithDongDelay(50*time.Millisecond))
	defer world.Close()
	require.NoError(t, world.AddContact("alice", "Alice"))
	pool, err := hawechaty.New(
		hawechaty.WithDingAfter(400*time.Millisecond),
		hawechaty.WithFailAfter(time.Second),
		hawechaty.WithSendTimeout(300*time.Millisecond),
		hawechaty.WithBackoff(epics.Backoff{Initial: 200 * time.Millisecond, Factor: 1.6, Jitter: 0.2, Max: time.Second}),
		hawechaty.WithSeed(1))
	require.NoError(t, err)
	defer pool.Stop(context.Background())
	reg := prometheus.NewRegistry()
	dt, err := devtools.NewEndpoint(pool.Store()) // its frame counters are exposed too
	require.NoError(t, err)
	defer dt.Close()
	m, err := ops.Instrument(pool, ops.WithRegisterer(reg), ops.WithDevTools(dt))
	require.NoError(t, err)
	defer m.Close()
	var bots []*mock.Bot
	for i := range 3 {
		b, err := world.AddBot(fmt.Sprintf("bot-%d", i+1))
		require.NoError(t, err)
		bots = append(bots, b)
		require.NoError(t, pool.Add(t.Context(), b))
	}
	require.NoError(t, pool.Start(t.Context()))

	srv := httptest.NewServer(ops.Handler(pool, ops.WithGatherer(reg)))
	defer srv.Close()

	// The application sends steadily.
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_, _ = pool.Say(ctx, "alice", "hello")
			}
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	// promtool lints what the handler exposes.
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	exposition, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = bytes.NewReader(exposition)
	out, err := lint.CombinedOutput()
	require.NoError(t, err, "promtool check metrics: %s", out)
	require.Empty(t, bytes.TrimSpace(out), "promtool check metrics")
	for _, name := range []string{"hawechaty_epic_queue_length", "hawechaty_events_dropped_total",
		"hawechaty_devtools_frames_sent_total", "hawechaty_devtools_frames_dropped_total"} {
		require.Contains(t, string(exposition), "\n"+name+" ", "linted with the rest")
	}

	prom := startPrometheus(t, promBin, srv.Listener.Addr().String())
	t.Logf("prometheus ready %v after the start", time.Since(started).Round(time.Millisecond))

	value := func(q string) (float64, string) {
		v, found := prom.query(t, q)
		if !found {
			return -1, q + ": no sample"
		}
		return v, fmt.Sprintf("%s = %v", q, v)
	}
	const (
		available      = `hawechaty_bots{status="connected"}`
		delivered      = `sum(hawechaty_sends_total{outcome="delivered"})`
		sends          = `sum(hawechaty_sends_total)`
		victimDeliv    = `sum(hawechaty_send_attempts_total{bot="bot-3",outcome="delivered"})`
		othersDeliv    = `sum(hawechaty_send_attempts_total{bot=~"bot-[12]",outcome="delivered"})`
		victimFailures = `sum(hawechaty_bot_failures_total{bot="bot-3"})`
	)

	// Before: three bots available, sends delivered through all three.
	eventually(t, 30*time.Second, "Prometheus sees three bots and sends through bot-3", func() (bool, string) {
		a, s1 := value(available)
		d, s2 := value(victimDeliv)
		return a == 3 && d > 0, s1 + "; " + s2
	})
	sendsBefore, _ := value(sends)
	deliveredBefore, _ := value(delivered)
	t.Logf("before (%v after the start): 3 bots available, %v sends, %v delivered", time.Since(started).Round(time.Millisecond), sendsBefore, deliveredBefore)

	// bot-3 dies silently; the heartbeat finds it.
	bots[2].Kill()
	killed := time.Now()
	eventually(t, 30*time.Second, "Prometheus sees two bots available", func() (bool, string) {
		a, s := value(available)
		return a == 2, s
	})
	t.Logf("Prometheus saw bot-3 down %v after the kill", time.Since(killed).Round(time.Millisecond))
	failures, _ := value(victimFailures)
	require.Equal(t, 1.0, failures, "bot-3 failed once")
	victimAtDetection, _ := value(victimDeliv)
	othersAtDetection, _ := value(othersDeliv)

	// After: sends go on through the two others; bot-3 delivers no more.
	eventually(t, 30*time.Second, "sends go on through two bots", func() (bool, string) {
		o, s := value(othersDeliv)
		return o >= othersAtDetection+20, s
	})
	sendsAfter, _ := value(sends)
	deliveredAfter, _ := value(delivered)
	victimAfter, _ := value(victimDeliv)
	avail, _ := value(available)
	t.Logf("after: %v bots available, %v sends, %v delivered, bot-3 delivered %v (at detection %v)", avail, sendsAfter, deliveredAfter, victimAfter, victimAtDetection)
	require.Equal(t, 2.0, avail)
	require.Greater(t, sendsAfter, sendsBefore, "the count of sends grew")
	require.Greater(t, deliveredAfter, deliveredBefore+19, "sends are delivered without bot-3")
	require.Equal(t, victimAtDetection, victimAfter, "bot-3 delivered nothing once it was found dead")
	t.Logf("suite ran %v", time.Since(started).Round(time.Millisecond))
}
