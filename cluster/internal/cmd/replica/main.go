// Command replica is one process of a clustered pool, for the cluster's
// integration suite: it drives the accounts of a world (cmd/world) over
// the puppet-service protocol, sharing them with the other replicas
// through Redis (hawechaty.WithCluster), and sends steadily through the
// pool. It prints one JSON line per event on standard output:
//
//	{"event":"ready","node":"r0"}
//	{"event":"said","text":"r0-12","ms":3,"outcome":"delivered","bot":"acct-3","node":"r0"}
//	{"event":"said","text":"r0-13","outcome":"not sent","err":"…"}
//	{"event":"inbound","id":"room-msg-4","bot":"acct-1","room":"room@chatroom","text":"hello-4"}
//	{"event":"stopped","leaked":0,"err":""}
//
// On SIGTERM (or when its standard input closes) it stops the pool (its
// puppets stopped, its leases released), then counts the goroutines left
// (goleak) and exits 3 if any are.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/cluster"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
)

type flags struct {
	redis, world, node  string
	accounts, capacity  int
	lease, renew, retry time.Duration
	sendEvery           time.Duration
}

func main() {
	var f flags
	flag.StringVar(&f.redis, "redis", "", "Redis URL")
	flag.StringVar(&f.world, "world", "", "the world's puppet-service endpoint")
	flag.StringVar(&f.node, "node", "", "this replica's node name")
	flag.IntVar(&f.accounts, "accounts", 6, "accounts acct-0 … acct-<n-1>")
	flag.IntVar(&f.capacity, "capacity", 3, "how many accounts this replica drives at most")
	flag.DurationVar(&f.lease, "lease", 3*time.Second, "lease")
	flag.DurationVar(&f.renew, "renew", 2*time.Second, "renew deadline")
	flag.DurationVar(&f.retry, "retry", 500*time.Millisecond, "retry period")
	flag.DurationVar(&f.sendEvery, "send-every", 100*time.Millisecond, "how often to Say (0: never)")
	flag.Parse()
	leaked, err := run(f)
	out := map[string]any{"event": "stopped", "leaked": leaked, "err": ""}
	if err != nil {
		out["err"] = err.Error()
	}
	emit(out)
	switch {
	case err != nil:
		os.Exit(1)
	case leaked > 0:
		os.Exit(3)
	}
}

var outMu sync.Mutex

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Println(string(b))
}

func run(f flags) (int, error) {
	if f.redis == "" || f.world == "" || f.node == "" {
		return 0, errors.New("-redis, -world and -node are required")
	}
	pool, err := hawechaty.New(
		hawechaty.WithSendTimeout(2*time.Second),
		hawechaty.WithCluster(f.redis,
			cluster.WithNode(f.node),
			cluster.WithCapacity(f.capacity),
			cluster.WithTiming(cluster.Timing{Lease: f.lease, RenewDeadline: f.renew, Retry: f.retry}),
			cluster.WithPrefix("it")))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range f.accounts {
		name := fmt.Sprintf("acct-%d", i)
		p, err := wechatyservice.New(f.world, puppet.NewSecret("insecure_"+name),
			wechatyservice.WithName(name),
			wechatyservice.WithNoTLS(true), // the test world serves plaintext on 127.0.0.1
			wechatyservice.WithCallTimeout(2*time.Second),
			wechatyservice.WithBackoff(wechatyservice.Backoff{Base: 100 * time.Millisecond, Factor: 2, Max: time.Second}),
			wechatyservice.WithDialOptions(grpc.WithUserAgent(f.node)))
		if err != nil {
			return 0, err
		}
		if err := pool.Add(ctx, p); err != nil {
			return 0, err
		}
	}
	if err := pool.Start(ctx); err != nil {
		return 0, err
	}
	emit(map[string]any{"event": "ready", "node": f.node})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	stdinDone := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinDone) }()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // until the pool stops
		defer wg.Done()
		for m := range pool.Messages() {
			emit(map[string]any{"event": "inbound", "id": m.ID, "bot": m.Bot, "room": m.Room, "text": m.Text})
		}
	}()
	var sends sync.WaitGroup
	sendCtx, stopSends := context.WithCancel(ctx)
	if f.sendEvery > 0 {
		sends.Add(1)
		go func() {
			defer sends.Done()
			sendLoop(sendCtx, pool, f)
		}()
	}
	select {
	case <-sig:
	case <-stdinDone:
	}
	signal.Stop(sig)
	stopSends()
	sends.Wait() // the Say under way ends first
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	err = pool.Stop(sctx)
	cancel()
	wg.Wait()
	// Goroutines still ending after the stop (gRPC's transports) get the
	// time goleak's retries give them.
	leaks := goleak.Find(goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("io.copyBuffer"),
		goleak.IgnoreAnyFunction("main.main.func1"), goleak.IgnoreAnyFunction("os.(*File).Read"))
	if leaks != nil {
		fmt.Fprintln(os.Stderr, leaks)
		return 1, err
	}
	return 0, err
}

// sendLoop says one numbered message to alice every sendEvery, one at a
// time, and reports how each ended.
func sendLoop(ctx context.Context, pool *hawechaty.Pool, f flags) {
	t := time.NewTicker(f.sendEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		text := fmt.Sprintf("%s-%d", f.node, n)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		began := time.Now()
		r, err := pool.Say(sctx, "alice", text)
		cancel()
		ev := map[string]any{"event": "said", "text": text, "ms": time.Since(began).Milliseconds()}
		var se *hawechaty.SendError
		switch {
		case err == nil:
			ev["outcome"], ev["bot"], ev["node"] = actions.Delivered.String(), r.Bot, r.Node
		case errors.As(err, &se):
			ev["outcome"], ev["err"] = se.Outcome.String(), err.Error()
		case errors.Is(err, hawechaty.ErrNoBot):
			ev["outcome"], ev["err"] = "no bot", err.Error()
		default:
			ev["outcome"], ev["err"] = "error", err.Error()
		}
		emit(ev)
	}
}
