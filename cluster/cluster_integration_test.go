//go:build integration

package cluster_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/cluster/internal/world"
	"github.com/hawechaty/hawechaty/cluster/redistest"
)

// The suite's timing: leases short enough for a test, long enough for a
// loaded 2-core machine (the margin, lease − renew deadline, is 1 s).
const (
	lease    = 3 * time.Second
	renew    = 2 * time.Second
	retry    = 500 * time.Millisecond
	accounts = 6
	capacity = 3
	// startSlack is the time from a grant to the world seeing the new
	// owner's Start RPC: publishing OWNED, a login slot, the RPC.
	startSlack = time.Second
)

// build compiles a command of this module into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "github.com/hawechaty/hawechaty/cluster/internal/cmd/"+pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// proc is a child process whose stdout is JSON lines.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when it exited and its output is read

	mu     sync.Mutex
	lines  []map[string]any
	stderr strings.Builder
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.cmd.Stderr = &lockedWriter{p: p}
	require.NoError(t, p.cmd.Start(), name)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.mu.Lock()
				p.lines = append(p.lines, m)
				p.mu.Unlock()
			}
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() { // what the process said, to tell why
			out := p.stderrText()
			t.Logf("%s's stderr (last 4 KiB):\n%s", name, out[max(0, len(out)-4096):])
		}
	})
	return p
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

func (p *proc) events(kind string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.lines {
		if l["event"] == kind {
			out = append(out, l)
		}
	}
	return out
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		<-tick.C
	}
}

type suite struct {
	t        *testing.T
	replica  string
	redis    *redistest.Server
	worldP   *proc
	grpc     string
	httpAddr string
	posts    int // room messages posted so far
}

func (s *suite) status() world.Status {
	s.t.Helper()
	resp, err := http.Get("http://" + s.httpAddr + "/status")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var st world.Status
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// drivers maps each account to its driver ("" for none).
func (s *suite) drivers() map[string]string {
	out := map[string]string{}
	for name, a := range s.status().Accounts {
		out[name] = a.Driver
	}
	return out
}

func (s *suite) allDriven(by ...string) bool {
	for _, d := range s.drivers() {
		if d == "" || (len(by) > 0 && !slices.Contains(by, d)) {
			return false
		}
	}
	return true
}

func (s *suite) drivenBy(node string) []string {
	var out []string
	for a, d := range s.drivers() {
		if d == node {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// startReplica runs a replica that reaches Redis through a proxy of its
// own (so that it alone can be cut off).
func (s *suite) startReplica(node string) (*proc, *redistest.Proxy) {
	px := redistest.NewProxy(s.t, s.redis.Addr)
	p := startProc(s.t, node, s.replica,
		"-redis", "redis://"+px.Addr+"/0?max_retries=-1&dial_timeout=300ms&read_timeout=500ms&write_timeout=500ms",
		"-world", s.grpc, "-node", node, "-accounts", fmt.Sprint(accounts), "-capacity", fmt.Sprint(capacity),
		"-lease", lease.String(), "-renew", renew.String(), "-retry", retry.String(), "-send-every", "100ms")
	waitFor(s.t, node+" ready", 30*time.Second, func() bool { return len(p.events("ready")) == 1 })
	return p, px
}

// takeovers returns, for each account, how long after t0 a node other
// than victim started it.
func (s *suite) takeovers(t0 time.Time, accts []string, victim string) map[string]time.Duration {
	out := map[string]time.Duration{}
	st := s.status()
	for _, a := range accts {
		for _, start := range st.Accounts[a].Starts {
			if start.At.After(t0) && start.Node != victim {
				out[a] = start.At.Sub(t0)
				break
			}
		}
	}
	return out
}

// post makes alice write to the room of every account; it returns the
// message's ID.
func (s *suite) post(text string) string {
	s.t.Helper()
	resp, err := http.Post("http://"+s.httpAddr+"/post?text="+text, "text/plain", nil)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return string(b)
}

// seen counts, per message ID, the replicas' inbound reports.
func seen(ps ...*proc) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		for _, e := range p.events("inbound") {
			out[e["id"].(string)]++
		}
	}
	return out
}

// seenText counts, per text, the replicas' inbound reports.
func seenText(ps ...*proc) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		for _, e := range p.events("inbound") {
			if text, ok := e["text"].(string); ok {
				out[text]++
			}
		}
	}
	return out
}

// postCopiesAndWait posts n messages that each account receives under an
// ID of its own (as from different providers) and waits until a replica
// saw each; it returns their texts.
func (s *suite) postCopiesAndWait(n int, ps ...*proc) []string {
	s.t.Helper()
	var texts []string
	for range n {
		s.posts++
		text := fmt.Sprintf("copies-%d", s.posts)
		resp, err := http.Post("http://"+s.httpAddr+"/post?copies=1&text="+text, "text/plain", nil)
		require.NoError(s.t, err)
		_ = resp.Body.Close()
		texts = append(texts, text)
	}
	waitFor(s.t, "copies seen", 20*time.Second, func() bool {
		got := seenText(ps...)
		return !slices.ContainsFunc(texts, func(text string) bool { return got[text] == 0 })
	})
	return texts
}

// postAndWait posts n messages and waits until a replica saw each.
func (s *suite) postAndWait(n int, ps ...*proc) []string {
	s.t.Helper()
	var ids []string
	for range n {
		// Each text once: the same text from the same sender within
		// reducers.Config.Fingerprint is one message to the pool.
		s.posts++
		ids = append(ids, s.post(fmt.Sprintf("hello-%d", s.posts)))
	}
	waitFor(s.t, "inbound messages seen", 20*time.Second, func() bool {
		got := seen(ps...)
		for _, id := range ids {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	return ids
}

func (s *suite) report(fault string, took map[string]time.Duration, bound time.Duration) {
	s.t.Helper()
	names := make([]string, 0, len(took))
	for a := range took {
		names = append(names, a)
	}
	sort.Strings(names)
	var parts []string
	for _, a := range names {
		parts = append(parts, fmt.Sprintf("%s %v", a, took[a].Round(time.Millisecond)))
		assert.LessOrEqual(s.t, took[a], bound, "%s: %s taken over in %v", fault, a, took[a])
	}
	s.t.Logf("takeover after %s (bound %v): %s", fault, bound, strings.Join(parts, ", "))
}

// Three replica processes share six accounts of a world that runs in a
// process of its own, through a real Redis; the suite kills, pauses and
// cuts them, and restarts Redis empty.
func TestThreeReplicasThroughFaults(t *testing.T) {
	dir := t.TempDir()
	worldBin := build(t, dir, "world")
	replicaBin := build(t, dir, "replica")
	s := &suite{t: t, replica: replicaBin, redis: redistest.Start(t)}
	s.worldP = startProc(t, "world", worldBin, "-accounts", fmt.Sprint(accounts))
	waitFor(t, "world ready", 30*time.Second, func() bool {
		s.worldP.mu.Lock()
		defer s.worldP.mu.Unlock()
		return len(s.worldP.lines) > 0
	})
	s.worldP.mu.Lock()
	s.grpc, s.httpAddr = s.worldP.lines[0]["grpc"].(string), s.worldP.lines[0]["http"].(string)
	s.worldP.mu.Unlock()

	r0, px0 := s.startReplica("r0")
	r1, px1 := s.startReplica("r1")
	r2, px2 := s.startReplica("r2")
	// A fresh keyspace is quiet for one lease, then the three share the
	// six accounts, at most three each.
	waitFor(t, "every account driven", lease+10*time.Second, func() bool { return s.allDriven() })
	for _, n := range []string{"r0", "r1", "r2"} {
		assert.LessOrEqual(t, len(s.drivenBy(n)), capacity, n)
	}
	t.Logf("shares: r0 %v, r1 %v, r2 %v", s.drivenBy("r0"), s.drivenBy("r1"), s.drivenBy("r2"))
	// Six accounts in one room, driven by two or three processes: each
	// message reaches the application once, cluster-wide.
	posted := s.postAndWait(5, r0, r1, r2)
	// The same, each account receiving the message under an ID of its
	// own: the claims of the content keys let one process accept it.
	drivers := map[string]bool{}
	for _, d := range s.drivers() {
		drivers[d] = true
	}
	require.GreaterOrEqual(t, len(drivers), 2, "the accounts are driven by two processes or more")
	copies := s.postCopiesAndWait(5, r0, r1, r2)

	// 1. kill -9 in the middle of sends: its accounts are taken within a
	// lease and a retry.
	victim, vp := "r0", r0
	if len(s.drivenBy("r0")) == 0 {
		victim, vp = "r1", r1
	}
	held := s.drivenBy(victim)
	sent := len(vp.events("said"))
	waitFor(t, victim+" sending", 10*time.Second, func() bool { return len(vp.events("said")) > sent+3 })
	t0 := time.Now()
	require.NoError(t, vp.cmd.Process.Signal(syscall.SIGKILL))
	<-vp.done
	others := []string{"r0", "r1", "r2"}
	others = slices.DeleteFunc(others, func(n string) bool { return n == victim })
	waitFor(t, "takeover after kill -9", lease+retry+10*time.Second, func() bool { return s.allDriven(others...) })
	s.report("kill -9 of "+victim, s.takeovers(t0, held, victim), lease+retry+startSlack)

	// A new process joins: every account is driven, so it stands by (the
	// next fault shows it taking over).
	r3, px3 := s.startReplica("r3")
	assert.Empty(t, s.drivenBy("r3"), "a new process takes free accounts only")

	// 2. SIGSTOP past the lease, then SIGCONT: the paused replica's
	// accounts go to the standby; woken, it finds its leases gone and
	// drives nothing.
	pausedName, paused := others[0], map[string]*proc{"r0": r0, "r1": r1, "r2": r2}[others[0]]
	held = s.drivenBy(pausedName)
	require.NotEmpty(t, held)
	t0 = time.Now()
	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGSTOP))
	waitFor(t, "takeover after SIGSTOP", lease+retry+10*time.Second, func() bool {
		return len(s.drivenBy(pausedName)) == 0 && s.allDriven()
	})
	s.report("SIGSTOP of "+pausedName, s.takeovers(t0, held, pausedName), lease+retry+startSlack)
	said := len(paused.events("said"))
	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGCONT))
	// Awake, it renews, learns the leases are gone, and stops its puppets;
	// meanwhile no call of its reaches the world (the fence refuses: see
	// the verdict below). It sends again, through the others' accounts
	// or not at all, and drives nothing.
	waitFor(t, pausedName+" awake", 2*lease, func() bool { return len(paused.events("said")) > said+3 })
	assert.Empty(t, s.drivenBy(pausedName))

	// 3. Redis restarted with its data lost: every holder stops at its
	// next renewal, grants are quiet for a lease, then all are driven
	// again, never by two at once.
	t0 = time.Now()
	s.redis.Restart()
	waitFor(t, "every account driven after the restart", 2*lease+10*time.Second, func() bool {
		st := s.status()
		for _, a := range st.Accounts {
			if a.Driver == "" || len(a.Starts) == 0 || !a.Starts[len(a.Starts)-1].At.After(t0) {
				return false
			}
		}
		return true
	})
	all := make([]string, 0, accounts)
	for i := range accounts {
		all = append(all, fmt.Sprintf("acct-%d", i))
	}
	s.report("Redis restarted empty", s.takeovers(t0, all, ""), retry+lease+retry+startSlack)

	// 4. Redis cut off from the busiest replica for longer than a lease:
	// it stops driving at its renew deadline; the others take its
	// accounts; back, it drives nothing until there is room.
	proxies := map[string]*redistest.Proxy{"r0": px0, "r1": px1, "r2": px2, "r3": px3}
	cutName := ""
	for _, n := range append(others, "r3") {
		if cutName == "" || len(s.drivenBy(n)) > len(s.drivenBy(cutName)) {
			cutName = n
		}
	}
	held = s.drivenBy(cutName)
	require.NotEmpty(t, held)
	t0 = time.Now()
	proxies[cutName].Cut()
	waitFor(t, "takeover after the cut", lease+retry+10*time.Second, func() bool {
		return len(s.drivenBy(cutName)) == 0 && s.allDriven()
	})
	s.report("Redis cut off from "+cutName, s.takeovers(t0, held, cutName), lease+retry+startSlack)
	st := s.status()
	for _, a := range held {
		ends := st.Accounts[a].Ends
		var end time.Time
		for _, e := range ends {
			if e.Node == cutName && e.At.After(t0) {
				end = e.At
			}
		}
		assert.False(t, end.IsZero(), "%s: %s stopped driving it itself", a, cutName)
		assert.Less(t, end.Sub(t0), lease, "%s: %s stopped within its renew deadline (%v), before the lease ends", a, cutName, end.Sub(t0))
	}
	waitFor(t, "cut for longer than a lease", 2*lease, func() bool { return time.Since(t0) > lease+retry })
	proxies[cutName].Heal()
	posted = append(posted, s.postAndWait(5, r0, r1, r2, r3)...)

	// Clean stop of every live replica: no goroutine left in any.
	live := []*proc{r2, r3, paused}
	for _, p := range []*proc{r0, r1} {
		if p != vp && p != paused {
			live = append(live, p)
		}
	}
	for _, p := range live {
		require.NoError(t, p.stdin.Close())
	}
	for _, p := range live {
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s did not stop", p.name)
		}
		stopped := p.events("stopped")
		require.Len(t, stopped, 1, "%s: %s", p.name, p.stderrText())
		assert.EqualValues(t, 0, stopped[0]["leaked"], "%s left goroutines: %s", p.name, p.stderrText())
		assert.Empty(t, stopped[0]["err"], p.name)
	}

	// The world's verdict.
	st = s.status()
	stale, kicks := 0, 0
	for name, a := range st.Accounts {
		stale += len(a.Stale)
		for _, st := range a.Stale {
			t.Errorf("%s: %s acted (%s) while %q drove it, at %v", name, st.Node, st.Method, st.Driver, st.At)
		}
		for _, k := range a.Kicks {
			kicks++
			assert.Equal(t, pausedName, k.From, "%s: only the paused replica's drives may be cut short by a new login: %+v", name, k)
		}
	}
	assert.Zero(t, stale, "moments of double driving")
	t.Logf("moments of double driving: %d; logins that replaced the paused replica's: %d", stale, kicks)

	// Each inbound message seen once cluster-wide (none twice, also
	// those posted during the faults: the posts above are the ones
	// every account was driven for).
	counts := seen(r0, r1, r2, r3)
	for _, id := range posted {
		assert.Equal(t, 1, counts[id], "inbound %s seen once cluster-wide", id)
	}
	for id, n := range counts {
		assert.LessOrEqual(t, n, 1, "inbound %s seen %d times", id, n)
	}
	t.Logf("inbound: %d room messages, each to 6 accounts, seen once each cluster-wide", len(posted))
	copiesSeen := seenText(r0, r1, r2, r3)
	for _, text := range copies {
		assert.Equal(t, 1, copiesSeen[text], "%s, under 6 IDs, seen once cluster-wide", text)
	}
	t.Logf("inbound: %d room messages, each to 6 accounts under 6 IDs (%d processes driving), seen once each cluster-wide", len(copies), len(drivers))

	// Every send ended once and truthfully: delivered ones are in the
	// world exactly once, not-sent ones never, none twice.
	times := map[string]int{}
	for _, d := range st.Delivered {
		times[d.Text]++
	}
	byText := map[string]world.Delivery{}
	for _, d := range st.Delivered {
		byText[d.Text] = d
	}
	delivered, forwarded, notSent, unknown := 0, 0, 0, 0
	slow := map[string][]string{}  // outcome → texts that took a second or more
	took := map[string][]float64{} // outcome → how long each took, ms
	for _, p := range []*proc{r0, r1, r2, r3} {
		for _, e := range p.events("said") {
			text := e["text"].(string)
			ms, _ := e["ms"].(float64)
			took[e["outcome"].(string)] = append(took[e["outcome"].(string)], ms)
			if ms >= 1000 {
				slow[e["outcome"].(string)] = append(slow[e["outcome"].(string)], fmt.Sprintf("%s %.0fms", text, ms))
			}
			switch e["outcome"] {
			case "delivered":
				delivered++
				assert.Equal(t, 1, times[text], "%s delivered once", text)
				d := byText[text]
				assert.Equal(t, d.Node, e["node"], "%s: the receipt names the process that delivered", text)
				assert.Equal(t, d.Account, e["bot"], "%s: and the bot", text)
				if e["node"] != p.name {
					forwarded++
				}
			case "not sent", "no bot":
				notSent++
				assert.Zero(t, times[text], "%s reported not sent", text)
			default:
				unknown++
				assert.LessOrEqual(t, times[text], 1, "%s at most once", text)
			}
		}
	}
	for text, n := range times {
		assert.LessOrEqual(t, n, 1, "%s delivered %d times", text, n)
	}
	t.Logf("sends: %d delivered (%d by another process), %d not sent or no bot, %d other (unknown, canceled); world deliveries %d",
		delivered, forwarded, notSent, unknown, len(st.Delivered))
	assert.Positive(t, forwarded, "sends went through bots other processes drive")
	for outcome, ms := range took {
		slices.Sort(ms)
		t.Logf("sends %s: %d, median %.0f ms, 90th percentile %.0f ms", outcome, len(ms), ms[len(ms)/2], ms[len(ms)*9/10])
	}
	for outcome, texts := range slow {
		t.Logf("sends that took 1 s or more, %s: %d (%s)", outcome, len(texts), strings.Join(texts[:min(len(texts), 8)], ", "))
	}
}
