//go:build integration

package hawechaty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envNodeSay names the directory of the Node Wechaty bot (say.mjs and its
// node_modules); by default integration/nodesay, relative to this package.
const envNodeSay = "HAWECHATY_NODESAY_NODE"

// nodeSayResult is what integration/nodesay/say.mjs prints.
type nodeSayResult struct {
	Says        int       `json:"says"`
	Rounds      int       `json:"rounds"`
	Warmup      int       `json:"warmup"`
	NsPerSay    float64   `json:"ns_per_say"`
	CPUNsPerSay float64   `json:"cpu_ns_per_say"`
	Samples     []float64 `json:"samples"`
	Delivered   int       `json:"delivered"`
	Seen        int       `json:"seen"`
	Errors      []string  `json:"errors"`
	Node        string    `json:"node"`
	Wechaty     string    `json:"wechaty"`
}

// runNodeSay runs say.mjs on node from PATH: a Wechaty bot on the mock
// puppet that says warmup messages, then rounds rounds of says messages,
// and reports its time per say. Any failure of node or of the script is
// an error carrying its stderr.
func runNodeSay(ctx context.Context, says, rounds, warmup int) (nodeSayResult, error) {
	dir := os.Getenv(envNodeSay)
	if dir == "" {
		dir = filepath.Join("integration", "nodesay")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nodeSayResult{}, fmt.Errorf("node is not installed: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "wechaty-puppet-mock", "package.json")); err != nil {
		return nodeSayResult{}, fmt.Errorf("wechaty-puppet-mock is not installed in %s: run `make nodesay-node`: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, node, "say.mjs",
		"--says", strconv.Itoa(says), "--rounds", strconv.Itoa(rounds), "--warmup", strconv.Itoa(warmup))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nodeSayResult{}, fmt.Errorf("node say.mjs: %w\nstdout:\n%s\nstderr:\n%s", err, stdout.Bytes(), stderr.Bytes())
	}
	// The result is the last line; Wechaty may have logged before it.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r nodeSayResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nodeSayResult{}, fmt.Errorf("node say.mjs printed no result: %w\nstdout:\n%s\nstderr:\n%s", err, stdout.Bytes(), stderr.Bytes())
	}
	if r.NsPerSay <= 0 || len(r.Samples) != rounds {
		return r, fmt.Errorf("node say.mjs: implausible result %+v\nstderr:\n%s", r, stderr.Bytes())
	}
	return r, nil
}

// TestNodeWechatySay runs the Node Wechaty bot of BenchmarkNodeWechatySay
// with few says: it reports a time per say, and every say reached the mock
// world and came back to the bot as its own message, with no error. It
// fails when node or the npm project is missing (make nodesay-node).
func TestNodeWechatySay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const says, rounds, warmup = 200, 2, 100
	r, err := runNodeSay(ctx, says, rounds, warmup)
	require.NoError(t, err)
	total := warmup + rounds*says
	assert.Equal(t, says, r.Says)
	assert.Equal(t, total, r.Delivered, "messages the mock world received from the bot")
	assert.Equal(t, total, r.Seen, "the bot's own messages it saw as message events")
	assert.Empty(t, r.Errors)
	assert.Positive(t, r.CPUNsPerSay)
	assert.Equal(t, "1.20.2", r.Wechaty)
	t.Logf("node %s, wechaty %s: %.0f ns/say (rounds %v), %.0f CPU ns/say", r.Node, r.Wechaty, r.NsPerSay, r.Samples, r.CPUNsPerSay)
}

// BenchmarkNodeWechatySay is the baseline for BenchmarkSay: a Node
// Wechaty bot (wechaty 1.20.2 on wechaty-puppet-mock, integration/nodesay)
// saying to a contact, each say awaited before the next. Node is timed by
// the script itself (say.mjs: after a warm-up of 20000 says, 5 rounds of
// 20000; the clock stops when the bot has seen each round's messages
// come back), so that Node's start and warm-up are not counted.
//
// One op is one run of the script (a run takes seconds, so with the
// default -benchtime b.N is 1). The reported ns/op replaces the measured
// one: it is the time per say, the median of the script's rounds (the
// median of the runs' medians when b.N > 1); cpu-ns/op is the CPU time
// per say of the Node process, min-ns/op and max-ns/op the fastest and
// slowest round. B/op and allocs/op are reported as 0: Node's allocations
// are not measured, and what -benchmem would count is the Go side
// starting node. Run it next to BenchmarkSay (make bench-say) to compare
// on the same machine at the same time.
func BenchmarkNodeWechatySay(b *testing.B) {
	const says, rounds, warmup = 20_000, 5, 20_000
	var wall, cpu, samples []float64
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		r, err := runNodeSay(ctx, says, rounds, warmup)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if r.Delivered != warmup+rounds*says || r.Seen != r.Delivered || len(r.Errors) > 0 {
			b.Fatalf("node say.mjs: says lost or failed: %+v", r)
		}
		wall = append(wall, r.NsPerSay)
		cpu = append(cpu, r.CPUNsPerSay)
		samples = append(samples, r.Samples...)
	}
	b.ReportMetric(median(wall), "ns/op")
	b.ReportMetric(median(cpu), "cpu-ns/op")
	b.ReportMetric(slices.Min(samples), "min-ns/op")
	b.ReportMetric(slices.Max(samples), "max-ns/op")
	b.ReportMetric(0, "B/op")
	b.ReportMetric(0, "allocs/op")
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
