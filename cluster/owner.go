package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/samber/lo"

	"github.com/hawechaty/hawechaty/puppet"
)

// Errors of a Cluster.
var (
	// ErrStopped: the cluster was stopped.
	ErrStopped = errors.New("cluster: stopped")
	// ErrNotHeld: a handover of a bot this node does not drive.
	ErrNotHeld = errors.New("cluster: this node does not hold the bot")
	// ErrDuplicate: Register with a bot name already registered.
	ErrDuplicate = errors.New("cluster: bot already registered")
)

// Driver puts bots into the local pool and takes them out. The root
// package's pool is one (hawechaty.WithCluster); tests have their own.
type Driver interface {
	// Drive announces that this node drives the bot (cluster/OWNED),
	// then adds p, the bot's puppet lent for as long as this node holds
	// l, to the local pool and starts it. A start that fails is the
	// pool's to retry, as for any failed bot; an error means the bot is
	// not driven (the lease is then given up).
	Drive(ctx context.Context, p puppet.Puppet, l Lease) error
	// Undrive stops the bot's puppet and takes it out of the local pool
	// (the puppet is not called after it returns), then announces that
	// this node no longer drives it (cluster/RELEASED): released, before
	// the lease is deleted, when release is set; lost otherwise.
	Undrive(ctx context.Context, l Lease, release bool) error
}

// Cluster is this process's share of a pool that several processes drive
// through Redis. Register the bots the process can drive, then Start: it
// takes free bots up to its capacity (standing by when full), renews
// their leases, drives a bot only while it holds the bot's lease, and
// hands a held bot over only when asked (Handover) or on Stop.
type Cluster struct {
	cfg       config
	rdb       redis.UniversalClient
	ownClient bool
	leases    *Leases
	logins    *Semaphore

	mu       sync.Mutex
	cands    map[string]*candidate
	held     map[string]*holding
	stopping map[string]chan struct{} // bots being undriven: closed when done
	driver   Driver
	runCtx   context.Context
	cancel   context.CancelFunc
	loopDone chan struct{}
	started  bool
	stopped  bool
	wake     chan struct{}
	wg       sync.WaitGroup // forwarders, drives and undrives
}

type holding struct {
	lease  Lease
	f      *fenced
	driven chan struct{} // closed when Drive has returned
}

// New returns a stopped Cluster on the Redis at redisURL (see Open), or
// on WithClient's client when redisURL is empty.
func New(redisURL string, opts ...Option) (*Cluster, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, cands: map[string]*candidate{}, held: map[string]*holding{},
		stopping: map[string]chan struct{}{}, wake: make(chan struct{}, 1)}
	switch {
	case cfg.client != nil && redisURL != "":
		return nil, errors.New("cluster: both a Redis URL and WithClient")
	case cfg.client != nil:
		c.rdb = cfg.client
	case redisURL == "":
		return nil, errors.New("cluster: no Redis URL")
	default:
		if c.rdb, err = Open(redisURL); err != nil {
			return nil, err
		}
		c.ownClient = true
	}
	if c.leases, err = NewLeases(c.rdb, cfg.prefix, cfg.node, cfg.timing); err != nil {
		c.closeClient()
		return nil, err
	}
	if cfg.ack.Replicas > 0 {
		if err = checkReadTimeout(c.rdb, cfg.ack.Timeout); err == nil {
			c.leases, err = c.leases.WithReplicaAck(cfg.ack)
		}
		if err != nil {
			c.closeClient()
			return nil, err
		}
	}
	if c.logins, err = NewSemaphore(c.rdb, cfg.prefix, "logins", cfg.node, cfg.logins, cfg.timing.Lease, cfg.timing.Retry/4); err != nil {
		c.closeClient()
		return nil, err
	}
	return c, nil
}

// checkReadTimeout refuses a WAIT timeout the client would cut short: a
// pipeline reads its replies within the client's read timeout.
func checkReadTimeout(rdb redis.UniversalClient, wait time.Duration) error {
	var rt time.Duration
	switch r := rdb.(type) {
	case *redis.Client:
		rt = r.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = r.Options().ReadTimeout
	default:
		return nil
	}
	if rt == 0 {
		rt = 3 * time.Second // go-redis's default
	}
	if rt > 0 && wait >= rt {
		return fmt.Errorf("cluster: WithReplicaAck: WAIT timeout %v, want less than the client's read timeout (%v)", wait, rt)
	}
	return nil
}

func (c *Cluster) closeClient() {
	if c.ownClient {
		_ = c.rdb.Close()
	}
}

// Node is this process's name in the cluster.
func (c *Cluster) Node() string { return c.cfg.node }

// Timing is the lease timing.
func (c *Cluster) Timing() Timing { return c.cfg.timing }

// Prefix is the prefix of every key.
func (c *Cluster) Prefix() string { return c.cfg.prefix }

// Leases are this node's lease calls, for fenced writes (Leases.Fenced).
func (c *Cluster) Leases() *Leases { return c.leases }

// Client is the Redis client.
func (c *Cluster) Client() redis.UniversalClient { return c.rdb }

// Held returns the leases this node holds, by bot name.
func (c *Cluster) Held() []Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := lo.MapToSlice(c.held, func(_ string, h *holding) Lease { return h.lease })
	slices.SortFunc(out, func(a, b Lease) int { return cmp.Compare(a.Bot, b.Bot) })
	return out
}

// Register adds a bot this process can drive, with its puppet. The
// cluster owns the puppet from now on: it starts it while it holds the
// bot's lease, stops it when it gives the lease up or loses it, and
// closes it at Stop.
func (c *Cluster) Register(bot string, p puppet.Puppet) error {
	if err := checkBot(bot); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("cluster: Register(%q, nil)", bot)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return ErrStopped
	case c.cands[bot] != nil:
		return fmt.Errorf("%w: %q", ErrDuplicate, bot)
	}
	cand := newCandidate(bot, p)
	c.cands[bot] = cand
	c.wg.Add(1)
	go cand.forward(&c.wg)
	c.poke()
	return nil
}

func (c *Cluster) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Start begins taking and renewing leases, driving bots through d. It
// returns at once; the cluster runs until Stop or ctx's end (which stops
// driving without releasing: use Stop for a clean stop).
func (c *Cluster) Start(ctx context.Context, d Driver) error {
	if d == nil {
		return errors.New("cluster: Start with a nil Driver")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return ErrStopped
	case c.started:
		return errors.New("cluster: already started")
	}
	c.started = true
	c.driver = d
	c.runCtx, c.cancel = context.WithCancel(ctx)
	c.loopDone = make(chan struct{})
	go c.loop(c.runCtx)
	return nil
}

// loop renews, fences and fills, every Retry and when poked.
func (c *Cluster) loop(ctx context.Context) {
	defer close(c.loopDone)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
		}
		c.tick(ctx)
		t.Reset(c.nextWake())
	}
}

// nextWake is the next Retry, or the earliest end of a held lease if that
// comes first (to stop its puppet on time).
func (c *Cluster) nextWake() time.Duration {
	d := c.cfg.timing.Retry
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.held {
		if until := time.Until(h.lease.Until); until < d {
			d = max(until, time.Millisecond)
		}
	}
	return d
}

func (c *Cluster) tick(ctx context.Context) {
	c.renew(ctx)
	c.heartbeat(ctx)
	c.fill(ctx)
}

// renew renews every held lease in one round trip and stops driving the
// bots whose lease is lost or whose end has come.
func (c *Cluster) renew(ctx context.Context) {
	c.mu.Lock()
	hs := lo.Values(c.held)
	ls := lo.Map(hs, func(h *holding, _ int) Lease { return h.lease })
	c.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	// Bounded by the earliest end: a hung Redis does not hold the loop
	// past the moment a puppet must stop.
	end := time.Now().Add(c.cfg.timing.Retry)
	for _, l := range ls {
		if l.Until.Before(end) {
			end = l.Until
		}
	}
	rctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	errs := c.leases.RenewAll(rctx, ls)
	now := time.Now()
	for i, h := range hs {
		err := errs[i]
		switch {
		case err == nil:
			c.mu.Lock()
			if c.held[h.lease.Bot] == h {
				h.lease.Until = ls[i].Until
				h.f.extend(ls[i].Until)
			}
			c.mu.Unlock()
		case errors.Is(err, ErrLost):
			c.cfg.log.Warn("cluster: lease lost; stopping the bot", "bot", h.lease.Bot, "token", h.lease.Token)
			c.lose(h, false, "")
		case errors.Is(err, ErrNotReplicated) && !now.Before(ls[i].Until):
			c.cfg.log.Warn("cluster: no renewal acknowledged by the replicas within the renew deadline; stopping the bot", "bot", h.lease.Bot, "err", err)
			c.lose(h, false, "")
		case errors.Is(err, ErrNotReplicated):
			// Not WithDriveThroughOutage's case: Redis answered, its
			// replicas did not; the end moves only on an acknowledged
			// renewal.
			c.cfg.log.Warn("cluster: renewal not acknowledged by the replicas; driving until the renew deadline", "bot", h.lease.Bot, "until", ls[i].Until, "err", err)
		case c.cfg.throughDown:
			c.cfg.log.Warn("cluster: cannot renew; driving on (WithDriveThroughOutage)", "bot", h.lease.Bot, "err", err)
			until := now.Add(c.cfg.timing.RenewDeadline)
			c.mu.Lock()
			if c.held[h.lease.Bot] == h {
				h.lease.Until = until
				h.f.extend(until)
			}
			c.mu.Unlock()
		case !now.Before(ls[i].Until):
			c.cfg.log.Warn("cluster: renew deadline passed; stopping the bot", "bot", h.lease.Bot, "err", err)
			c.lose(h, false, "")
		default:
			c.cfg.log.Debug("cluster: renew failed; retrying", "bot", h.lease.Bot, "err", err)
		}
	}
}

// nodeInfo is the value of {P}:node:node.
type nodeInfo struct {
	Capacity int `json:"capacity"`
	Driving  int `json:"driving"`
}

// heartbeat says the node is alive, and keeps {P}:epoch: a missing epoch
// while the node runs means Redis lost its data (the grants' quiet period
// keeps that safe; the log says it).
func (c *Cluster) heartbeat(ctx context.Context) {
	c.mu.Lock()
	info := nodeInfo{Capacity: c.capacity(), Driving: len(c.held)}
	c.mu.Unlock()
	b, _ := json.Marshal(info)
	hctx, cancel := context.WithTimeout(ctx, c.cfg.timing.Retry)
	defer cancel()
	pipe := c.rdb.Pipeline()
	pipe.Set(hctx, c.leases.keys.Node(c.cfg.node), b, c.cfg.timing.Lease)
	epoch := pipe.SetNX(hctx, c.leases.keys.Epoch(), c.cfg.node+"@"+time.Now().UTC().Format(time.RFC3339Nano), 0)
	if _, err := pipe.Exec(hctx); err != nil {
		return
	}
	if epoch.Val() {
		c.cfg.log.Info("cluster: created the keyspace's epoch (first use, or Redis lost its data)", "node", c.cfg.node)
	}
}

// capacity is how many bots this node may drive (c.mu held).
func (c *Cluster) capacity() int {
	if c.cfg.capacity > 0 {
		return c.cfg.capacity
	}
	return len(c.cands)
}

// fill takes free bots while the node has room.
func (c *Cluster) fill(ctx context.Context) {
	c.mu.Lock()
	room := c.capacity() - len(c.held)
	free := lo.Filter(lo.Keys(c.cands), func(b string, _ int) bool {
		_, held := c.held[b]
		_, stopping := c.stopping[b]
		return !held && !stopping
	})
	c.mu.Unlock()
	if room <= 0 || len(free) == 0 {
		return
	}
	// Each node tries the bots in an order of its own, so that nodes
	// starting together spread the bots between them.
	node := c.cfg.node
	slices.SortFunc(free, func(a, b string) int { return cmp.Compare(rank(node, a), rank(node, b)) })
	fctx, cancel := context.WithTimeout(ctx, c.cfg.timing.Retry)
	defer cancel()
	// One round trip to see which are free at all.
	pipe := c.rdb.Pipeline()
	gets := lo.Map(free, func(b string, _ int) *redis.StringCmd { return pipe.Get(fctx, c.leases.keys.Lease(b)) })
	if _, err := pipe.Exec(fctx); err != nil && !errors.Is(err, redis.Nil) {
		return
	}
	for i, bot := range free {
		if room == 0 || fctx.Err() != nil {
			return
		}
		if gets[i].Err() != redis.Nil {
			continue // held by someone
		}
		l, err := c.leases.Grant(fctx, bot)
		if errors.Is(err, ErrNotReplicated) {
			// The replicas lag for every grant alike: try again next
			// time rather than WAIT once per free bot.
			c.cfg.log.Warn("cluster: grant not acknowledged by the replicas; given up, not driving", "bot", bot, "err", err)
			return
		}
		if err != nil {
			if !errors.Is(err, ErrHeld) && !errors.Is(err, ErrQuiet) && !errors.Is(err, ErrOffered) {
				c.cfg.log.Debug("cluster: grant failed", "bot", bot, "err", err)
			}
			continue
		}
		if c.gain(l) {
			room--
		}
	}
}

// gain starts driving a bot whose lease this node was just granted.
func (c *Cluster) gain(l Lease) bool {
	c.mu.Lock()
	cand := c.cands[l.Bot]
	if c.stopped || cand == nil || c.runCtx.Err() != nil {
		c.mu.Unlock()
		c.releaseLease(l, "")
		return false
	}
	f := newFenced(cand, l.Until, c.logins.Acquire)
	h := &holding{lease: l, f: f, driven: make(chan struct{})}
	c.held[l.Bot] = h
	ctx, d := c.runCtx, c.driver
	c.wg.Add(1)
	c.mu.Unlock()
	c.cfg.log.Info("cluster: driving", "bot", l.Bot, "node", l.Node, "token", l.Token)
	go func() {
		defer c.wg.Done()
		var err error
		if cand.lend(f) {
			err = d.Drive(ctx, f, l)
		} else {
			err = errors.New("the puppet was closed")
		}
		close(h.driven)
		if err != nil {
			c.cfg.log.Warn("cluster: cannot drive; giving the lease up", "bot", l.Bot, "err", err)
			c.lose(h, true, "")
		}
	}()
	return true
}

// lose stops driving h's bot: its puppet's calls are refused at once,
// then the bot is taken out of the pool and its puppet stopped, then
// (release) its lease given up, to node to if set. The returned channel
// is closed when all that is done.
func (c *Cluster) lose(h *holding, release bool, to string) <-chan struct{} {
	bot := h.lease.Bot
	c.mu.Lock()
	if c.held[bot] != h {
		done := c.stopping[bot]
		c.mu.Unlock()
		if done == nil {
			done = make(chan struct{})
			close(done)
		}
		return done
	}
	delete(c.held, bot)
	lease := h.lease
	done := make(chan struct{})
	c.stopping[bot] = done
	d := c.driver
	c.wg.Add(1)
	c.mu.Unlock()
	h.f.fence()
	go func() {
		defer c.wg.Done()
		defer func() {
			c.mu.Lock()
			delete(c.stopping, bot)
			c.mu.Unlock()
			close(done)
			c.poke()
		}()
		<-h.driven
		ctx, cancel := context.WithTimeout(context.Background(), undriveTimeout)
		defer cancel()
		if err := d.Undrive(ctx, lease, release); err != nil {
			c.cfg.log.Warn("cluster: undrive", "bot", bot, "err", err)
		}
		_ = h.f.Close()
		if release {
			c.releaseLease(lease, to)
		}
		c.cfg.log.Info("cluster: stopped driving", "bot", bot, "released", release, "to", to)
	}()
	return done
}

// undriveTimeout bounds taking a bot out of the pool (its puppet's Stop).
const undriveTimeout = 30 * time.Second

func (c *Cluster) releaseLease(l Lease, to string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timing.Retry)
	defer cancel()
	if err := c.leases.Release(ctx, l, to); err != nil && !errors.Is(err, ErrLost) {
		c.cfg.log.Warn("cluster: release (the lease ends by itself)", "bot", l.Bot, "err", err)
	}
}

// Handover stops driving bot and hands its lease to node to, which takes
// it at its next try (within Retry); no other node may take it for one
// lease. The puppet is stopped before the lease is released. It returns
// when this node has let go.
func (c *Cluster) Handover(ctx context.Context, bot, to string) error {
	if to == "" || to == c.cfg.node {
		return fmt.Errorf("cluster: handover of %q to %q: want another node", bot, to)
	}
	c.mu.Lock()
	h := c.held[bot]
	c.mu.Unlock()
	if h == nil {
		return fmt.Errorf("%w: %q", ErrNotHeld, bot)
	}
	select {
	case <-c.lose(h, true, to):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop stops driving every bot (each puppet stopped before its lease is
// released, so that another node takes it at its next try), stops the
// loop, and closes the puppets. ctx bounds the wait; the rest goes on in
// the background.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	cancel, loopDone := c.cancel, c.loopDone
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-loopDone
	}
	c.mu.Lock()
	hs := lo.Values(c.held)
	c.mu.Unlock()
	dones := lo.Map(hs, func(h *holding, _ int) <-chan struct{} { return c.lose(h, true, "") })
	var err error
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			err = fmt.Errorf("cluster: stop: %w (bots go on stopping in the background)", ctx.Err())
		}
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	cands := lo.Values(c.cands)
	c.mu.Unlock()
	var errs []error
	for _, cand := range cands {
		close(cand.done)
		if cerr := cand.raw.Close(); cerr != nil {
			errs = append(errs, fmt.Errorf("cluster: close %q: %w", cand.bot, cerr))
		}
	}
	all := make(chan struct{})
	go func() { c.wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-ctx.Done():
		err = fmt.Errorf("cluster: stop: %w (bots go on stopping in the background)", ctx.Err())
	}
	if err == nil {
		c.delNode()
		c.closeClient()
	}
	return errors.Join(append(errs, err)...)
}

func (c *Cluster) delNode() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timing.Retry)
	defer cancel()
	_ = c.rdb.Del(ctx, c.leases.keys.Node(c.cfg.node)).Err()
}

// rank orders bots for one node (FNV-1a of node and bot).
func rank(node, bot string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(node))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(bot))
	return h.Sum64()
}
