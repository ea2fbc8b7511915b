package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/cluster"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/store"
)

// EnvRedis names the Redis that the processes of one pool share
// (FromEnv): a URL as cluster.Open takes it. Empty: a pool of one
// process.
const EnvRedis = "HA_WECHATY_REDIS"

// WithCluster makes the pool one of several processes (replicas) that
// share its bots through the Redis at redisURL (see cluster.Open for
// single servers, Sentinel and Redis Cluster; with cluster.WithClient,
// redisURL is empty).
//
// Each bot is then driven by one process at a time, the one that holds
// its lease. Add registers a bot this process can drive instead of
// driving it at once: its puppet is started when the process takes the
// bot's lease (within cluster.WithCapacity; a full process stands by),
// stopped when it gives the lease up or loses it, and closed at Stop.
// Every process's state holds every bot; Bot.Node says which process
// drives it. Stop stops the puppets and releases their leases, so the
// other processes take the bots at their next try; a process that dies
// has its bots taken within a lease and a retry (15 s + 2 s by default,
// cluster.WithTiming).
func WithCluster(redisURL string, opts ...cluster.Option) Option {
	return optionFunc(func(c *config) { c.cluster = &clusterConfig{url: redisURL, opts: opts} })
}

type clusterConfig struct {
	url  string
	opts []cluster.Option
}

// withEnvCluster adds WithCluster when EnvRedis is set.
func withEnvCluster(getenv func(string) string, opts []Option) []Option {
	if u := getenv(EnvRedis); u != "" {
		return append(opts, WithCluster(u))
	}
	return opts
}

// poolCluster is the pool's share of a cluster: the lease manager and the
// feed. It implements cluster.Driver for the pool.
type poolCluster struct {
	p    *Pool
	c    *cluster.Cluster
	feed *cluster.Feed
	fw   *cluster.Forwarder
	in   *cluster.Inbound

	mu         sync.Mutex
	cancel     context.CancelFunc
	followDone chan struct{}
	stopOnce   sync.Once
	stopErr    error
}

// newPoolCluster opens the cluster of the pool's configuration.
func newPoolCluster(p *Pool, cc *clusterConfig) (*poolCluster, error) {
	opts := append([]cluster.Option{cluster.WithLogger(p.log)}, cc.opts...)
	c, err := cluster.New(cc.url, opts...)
	if err != nil {
		return nil, fmt.Errorf("hawechaty: %w", err)
	}
	ha := p.cfg.ha
	feed, err := cluster.NewFeed(c.Client(), c.Node(), cluster.FeedOptions{Prefix: c.Prefix(), Log: p.log})
	var fw *cluster.Forwarder
	if err == nil {
		fw, err = cluster.NewForwarder(c.Client(), c.Node(), cluster.ForwardOptions{Prefix: c.Prefix(), SendTimeout: ha.SendTimeout, Log: p.log})
	}
	var in *cluster.Inbound
	if err == nil {
		in, err = cluster.NewInbound(c.Client(), c.Node(), cluster.InboundOptions{Prefix: c.Prefix(), Window: ha.DedupeWindow, Fingerprint: ha.Fingerprint, Log: p.log})
	}
	if err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("hawechaty: %w", err)
	}
	return &poolCluster{p: p, c: c, feed: feed, fw: fw, in: in}, nil
}

// Cluster returns the pool's cluster (its node name, leases, handover),
// or nil for a pool of one process.
func (p *Pool) Cluster() *cluster.Cluster {
	if p.cl == nil {
		return nil
	}
	return p.cl.c
}

// register puts a bot the process can drive in the state and in the
// cluster.
func (pc *poolCluster) register(pup puppet.Puppet) error {
	name := pup.Name()
	pc.p.mu.Lock()
	st := pc.p.state
	pc.p.mu.Unlock()
	if st == stopped {
		return ErrStopped
	}
	if err := pc.p.st.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: name, Puppet: kindOf(name), NoMedia: puppet.CannotSend(pup)}).WithSource("pool")); err != nil {
		if errors.Is(err, store.ErrStopped) {
			err = ErrStopped
		}
		return fmt.Errorf("hawechaty: add %q: %w", name, err)
	}
	if err := pc.c.Register(name, pup); err != nil {
		if errors.Is(err, cluster.ErrDuplicate) {
			return fmt.Errorf("%w: %q", ErrDuplicateBot, name)
		}
		return fmt.Errorf("hawechaty: add %q: %w", name, err)
	}
	return nil
}

// start follows the feed, serves and forwards sends, and starts taking
// leases.
func (pc *poolCluster) start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	pc.mu.Lock()
	pc.cancel, pc.followDone = cancel, done
	pc.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := pc.feed.Follow(ctx, pc.p.st.dispatch); err != nil && !errors.Is(err, store.ErrStopped) {
			pc.p.log.Warn("hawechaty: the cluster feed stopped", "err", err)
		}
	})
	wg.Go(func() {
		owner := cluster.Owner{State: pc.p.State, Puppet: pc.p.puppet, Dispatch: pc.p.st.dispatch}
		if err := pc.fw.Run(ctx, owner); err != nil {
			pc.p.log.Warn("hawechaty: the cluster forwarder stopped", "err", err)
		}
	})
	go func() { wg.Wait(); close(done) }()
	return pc.c.Start(ctx, pc)
}

// stop stops driving (puppets stopped, leases released), then stops
// following the feed and serving sends. Once; later calls return the
// first's error.
func (pc *poolCluster) stop(ctx context.Context) error {
	pc.stopOnce.Do(func() {
		pc.stopErr = pc.c.Stop(ctx)
		pc.mu.Lock()
		cancel, done := pc.cancel, pc.followDone
		pc.mu.Unlock()
		if cancel != nil {
			cancel()
			<-done
		}
	})
	return pc.stopErr
}

// Drive announces the bot as this node's (cluster/OWNED, published under
// the lease's token), then adds the lent puppet to the pool and starts
// it.
func (pc *poolCluster) Drive(ctx context.Context, pup puppet.Puppet, l cluster.Lease) error {
	if err := pc.feed.Own(ctx, pc.p.st.dispatch, l.Bot, l.Token); err != nil {
		return err
	}
	return pc.p.attach(ctx, pup)
}

// Undrive stops the bot's puppet and takes it out of the pool, then
// announces that this node no longer drives it.
func (pc *poolCluster) Undrive(ctx context.Context, l cluster.Lease, release bool) error {
	err := pc.p.detach(ctx, l.Bot)
	if release {
		return errors.Join(err, pc.feed.Release(ctx, pc.p.st.dispatch, l.Bot, l.Token, "released"))
	}
	return errors.Join(err, pc.feed.Lost(pc.p.st.dispatch, l.Bot, l.Token, "lease lost"))
}

// attach puts a puppet the cluster lent into the pool (its bot's record
// is in the state already) and starts it.
func (p *Pool) attach(ctx context.Context, pup puppet.Puppet) error {
	pup = puppet.Guard(pup)
	name := pup.Name()
	m := newMember(pup)
	p.roster.Lock()
	if _, err := p.claim(name, m); err != nil {
		p.roster.Unlock()
		return err
	}
	p.wg.Add(1)
	p.roster.Unlock()
	go p.pump(name, m)
	// A start that fails leaves the bot in the pool: it is reset as any
	// failed bot.
	if err := callBounded(ctx, func(ctx context.Context) error { return m.p.Start(ctx) }); err != nil {
		p.log.Info("hawechaty: start", "bot", name, "err", err)
	}
	return nil
}

// detach takes a bot's puppet out of the pool and stops it, keeping the
// bot's record in the state.
func (p *Pool) detach(ctx context.Context, name string) error {
	p.roster.Lock()
	p.mu.Lock()
	m, ok := p.dropLocked(name)
	p.mu.Unlock()
	p.roster.Unlock()
	if !ok {
		return nil
	}
	close(m.done)
	base := context.WithoutCancel(ctx)
	if err := callBounded(ctx, func(context.Context) error { return stopMember(base, m) }); err != nil {
		return fmt.Errorf("hawechaty: stop driving %q: %w", name, err)
	}
	return nil
}
