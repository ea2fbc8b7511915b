// Command example runs a pool of mock bots in real time with short
// timings. It sends steadily, kills one bot a third of the way in, and
// shows the pool detect it, route around it, reset it and take it back.
// It ends by itself with a summary table.
//
// The killed bot stays dead through resets until two thirds of the run,
// so the reset backoff shows; then it answers the next reset.
//
// bot-1 is a new account: it asks for a QR scan at the start, and the demo
// prints the QR code in the terminal (read from the pool's Events); a
// phone "scans" it by itself after -scan (default 3 s).
//
//	go run ./example
//	go run ./example -bots 5 -duration 20s
//	go run ./example -devtools ws://127.0.0.1:8000   # watch it in Redux DevTools
//	go run ./example -http 127.0.0.1:9090            # /healthz /readyz /v1/health /metrics
//	go run ./example -scan 0                         # no QR login
//	go run ./example -redis redis://127.0.0.1:6379/0 # one of several replicas (run it in 3 terminals)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

func main() {
	bots := flag.Int("bots", 3, "number of bots in the pool (2 to 50)")
	duration := flag.Duration("duration", 24*time.Second, "how long to run (10s to 10m)")
	relay := flag.String("devtools", "", "stream the pool to a Redux DevTools relay, e.g. ws://127.0.0.1:8000")
	flag.StringVar(&opsAddr, "http", "", "serve /healthz, /readyz, /v1/health and /metrics for the demo, e.g. 127.0.0.1:9090")
	flag.DurationVar(&scanAfter, "scan", scanAfter, "bot-1 asks for a QR scan at the start and is scanned after this long (0: no QR login)")
	flag.StringVar(&redisURL, "redis", "", "run as one replica of a pool shared through this Redis, e.g. redis://127.0.0.1:6379/0")
	flag.Parse()
	if err := run(os.Stdout, *bots, *duration, *relay); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// demo timings: HAWechaty's, divided by 30.
const (
	dingAfter   = 2 * time.Second
	failAfter   = 4 * time.Second
	sendTimeout = 500 * time.Millisecond
	sendEvery   = 100 * time.Millisecond
)

type stats struct {
	mu        sync.Mutex // out and the fields narrate shares with the send loop
	sent      map[string]int
	failover  int
	unknown   int
	noBot     int
	inbound   int
	killedAt  time.Time
	failedAt  time.Time
	backAt    time.Time
	victim    string
	resets    int
	startedAt time.Time
}

func run(out io.Writer, nbots int, duration time.Duration, relay string) error {
	if nbots < 2 || nbots > 50 {
		return fmt.Errorf("-bots %d: want 2 to 50", nbots)
	}
	if duration < 10*time.Second || duration > 10*time.Minute {
		return fmt.Errorf("-duration %v: want 10s to 10m", duration)
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	world := mock.NewWorld(mock.WithSeed(42), mock.WithDongDelay(200*time.Millisecond))
	defer world.Close()
	if err := world.AddContact("alice", "Alice"); err != nil {
		return err
	}
	var botIDs []string
	for i := range nbots {
		botIDs = append(botIDs, fmt.Sprintf("bot-%d", i+1))
	}
	pool, err := hawechaty.New(append([]hawechaty.Option{
		hawechaty.WithDingAfter(dingAfter),
		hawechaty.WithFailAfter(failAfter),
		hawechaty.WithSendTimeout(sendTimeout),
		hawechaty.WithBackoff(epics.Backoff{Initial: 500 * time.Millisecond, Factor: 1.6, Jitter: 0.2, Max: 5 * time.Second}),
		hawechaty.WithSeed(42),
	}, clusterOptions(out)...)...)
	if err != nil {
		return err
	}
	mbots := map[string]*mock.Bot{}
	for i, id := range botIDs {
		b, err := world.AddBot(id, qrLogin(i)...)
		if err != nil {
			return err
		}
		mbots[id] = b
		if err := pool.Add(ctx, b); err != nil {
			return err
		}
	}
	if err := world.AddRoom("team", "the team", append([]string{"alice"}, botIDs...)...); err != nil {
		return err
	}

	var metricsOpts []ops.MetricsOption
	if relay != "" {
		c, err := devtools.Connect(ctx, pool.Store(), devtools.WithURL(relay), devtools.WithName("HAWechaty example"))
		if err != nil {
			return err
		}
		defer c.Close()
		metricsOpts = append(metricsOpts, ops.WithDevTools(c))
		fmt.Fprintf(out, "streaming to Redux DevTools at %s\n", relay)
	}
	if opsAddr != "" {
		_, stop, err := serveOps(out, pool, opsAddr, metricsOpts...)
		if err != nil {
			return err
		}
		defer stop()
	}
	st := &stats{sent: map[string]int{}, victim: botIDs[len(botIDs)-1], startedAt: time.Now()}
	events := pool.Store().Subscribe(4096)
	scans := pool.Events(ctx)
	fmt.Fprintf(out, "pool of %d mock bots for %v: ding after %v of silence, failed after %v\n", nbots, duration, dingAfter, failAfter)
	if err := pool.Start(ctx); err != nil {
		return err
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		narrate(out, st, events.C())
	}()
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		showScans(out, st, scans)
	}()

	killAt := time.After(duration / 3)
	reviveAt := time.After(2 * duration / 3)
	send := time.NewTicker(sendEvery)
	defer send.Stop()
	chatter := time.NewTicker(time.Second)
	defer chatter.Stop()
	n := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-killAt:
			st.mu.Lock()
			st.killedAt = time.Now()
			fmt.Fprintf(out, "%6s  !! %s dies silently (no logout, sends hang, resets do not help)\n", since(st.startedAt), st.victim)
			st.mu.Unlock()
			mbots[st.victim].Kill()
		case <-reviveAt:
			st.mu.Lock()
			fmt.Fprintf(out, "%6s  ~  %s could work again: the next reset will bring it back\n", since(st.startedAt), st.victim)
			st.mu.Unlock()
			mbots[st.victim].Revive()
		case <-chatter.C:
			if _, err := world.Post("alice", "team", "hello bots"); err != nil {
				return err
			}
		case _, ok := <-pool.Messages():
			if !ok { // the pool stopped with ctx
				break loop
			}
			st.inbound++
		case <-send.C:
			n++
			r, err := pool.Say(ctx, "alice", fmt.Sprintf("message %d", n))
			switch {
			case err == nil:
				st.sent[r.Bot]++
				if r.Attempts > 1 {
					st.failover++
				}
			case errors.Is(err, puppet.ErrOutcomeUnknown):
				st.unknown++
			case errors.Is(err, hawechaty.ErrNoBot):
				st.noBot++
			case ctx.Err() != nil:
				break loop
			default:
				st.mu.Lock()
				fmt.Fprintf(out, "%6s  send error: %v\n", since(st.startedAt), err)
				st.mu.Unlock()
			}
		}
	}
	if err := pool.Stop(context.Background()); err != nil {
		return err
	}
	<-logDone
	<-scanDone
	summary(out, st, botIDs, world)
	return nil
}

// narrate prints the pool's notable actions as they happen.
func narrate(out io.Writer, st *stats, changes <-chan storeChange) {
	for c := range changes {
		st.mu.Lock()
		narrateOne(out, st, c)
		st.mu.Unlock()
	}
}

// narrateOne prints one change if it is notable; st.mu is held.
func narrateOne(out io.Writer, st *stats, c storeChange) {
	a := c.Action
	at := since(st.startedAt)
	switch a.Type {
	case actions.Login.Type():
		p, _ := actions.Login.Match(a)
		if p.Bot == st.victim && !st.failedAt.IsZero() && st.backAt.IsZero() {
			st.backAt = time.Now()
			fmt.Fprintf(out, "%6s  ✓  %s logged in again after a reset: back in rotation\n", at, p.Bot)
		}
	case actions.Ding.Type():
		p, _ := actions.Ding.Match(a)
		if p.Bot == st.victim && !st.killedAt.IsZero() && st.failedAt.IsZero() {
			fmt.Fprintf(out, "%6s  ?  ding #%d to %s: silent for a while\n", at, p.Attempt, p.Bot)
		}
	case actions.BotFailed.Type():
		p, _ := actions.BotFailed.Match(a)
		if p.Bot == st.victim && st.failedAt.IsZero() {
			st.failedAt = time.Now()
		}
		fmt.Fprintf(out, "%6s  ✗  %s failed: %s; sends now skip it\n", at, p.Bot, p.Reason)
	case actions.ResetDone.Type():
		p, _ := actions.ResetDone.Match(a)
		if p.Bot == st.victim {
			st.resets++
		}
		result := "done"
		if p.Error != "" {
			result = "failed: " + p.Error
		}
		fmt.Fprintf(out, "%6s  ↻  reset %s, attempt %d %s\n", at, p.Bot, p.Attempt, result)
	case actions.PoolFailed.Type():
		fmt.Fprintf(out, "%6s  ✗✗ every bot is down\n", at)
	case actions.PoolRecovered.Type():
		fmt.Fprintf(out, "%6s  ✓✓ the pool is back\n", at)
	}
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

func summary(out io.Writer, st *stats, bots []string, world *mock.World) {
	delivered := map[string]int{}
	twice := 0
	seen := map[string]bool{}
	for _, d := range world.Delivered() {
		if d.To != "alice" {
			continue
		}
		delivered[d.Bot]++
		if seen[d.Text] {
			twice++
		}
		seen[d.Text] = true
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bot\tsends (pool)\tdelivered (world)\t")
	total := 0
	for _, b := range bots {
		mark := ""
		if b == st.victim {
			mark = " (killed)"
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%d\t\n", b, mark, st.sent[b], delivered[b])
		total += st.sent[b]
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\n", total, len(seen))
	tw.Flush()
	fmt.Fprintln(out)
	row := func(k, v string) { fmt.Fprintf(out, "%-40s %s\n", k, v) }
	row("failed over to another bot", fmt.Sprint(st.failover))
	row("outcome unknown (reported, not resent)", fmt.Sprint(st.unknown))
	row("no bot available", fmt.Sprint(st.noBot))
	row("messages delivered twice", fmt.Sprint(twice))
	row("inbound messages seen by the app", fmt.Sprintf("%d (each once, from %d bots)", st.inbound, len(bots)))
	row("detection time", duration(st.killedAt, st.failedAt))
	row("back in rotation after", duration(st.killedAt, st.backAt))
	row("resets of the killed bot", fmt.Sprint(st.resets))
}

func duration(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return "—"
	}
	return to.Sub(from).Round(10 * time.Millisecond).String()
}

// storeChange is one step of the pool store.
type storeChange = store.Change[reducers.Pool]
