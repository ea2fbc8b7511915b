package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hawechaty/hawechaty/puppet"
)

// The cut-off tests' dial errors are expected: go-redis logs them.
func init() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// world is the chat platform as the owner tests see it: per bot, which
// nodes drive it (between a Start and a Stop, or the node's crash), and
// the largest number of nodes that ever drove one bot at once.
type world struct {
	mu        sync.Mutex
	driving   map[string]map[string]bool
	most      map[string]int
	starts    map[string][]string // bot → nodes, in order of their Starts
	since     map[string]time.Time
	acts      int
	loginsNow int
	loginsMax int
	loginGate chan struct{} // when set, Starts wait on it
}

func newWorld() *world {
	return &world{driving: map[string]map[string]bool{}, most: map[string]int{}, starts: map[string][]string{}, since: map[string]time.Time{}}
}

func (w *world) start(node, bot string) {
	w.mu.Lock()
	if w.driving[bot] == nil {
		w.driving[bot] = map[string]bool{}
	}
	w.driving[bot][node] = true
	w.most[bot] = max(w.most[bot], len(w.driving[bot]))
	w.starts[bot] = append(w.starts[bot], node)
	w.since[bot] = time.Now()
	w.mu.Unlock()
}

func (w *world) stop(node, bot string) {
	w.mu.Lock()
	delete(w.driving[bot], node)
	w.mu.Unlock()
}

// crash ends every session of node, as a platform sees its connections
// drop.
func (w *world) crash(node string) {
	w.mu.Lock()
	for _, m := range w.driving {
		delete(m, node)
	}
	w.mu.Unlock()
}

func (w *world) drivers(bot string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n := range w.driving[bot] {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (w *world) maxDrivers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := 0
	for _, n := range w.most {
		m = max(m, n)
	}
	return m
}

// fakePuppet is one node's puppet for one bot.
type fakePuppet struct {
	w      *world
	node   string
	bot    string
	events chan puppet.Event
	once   sync.Once
}

func (p *fakePuppet) Name() string                { return p.bot }
func (p *fakePuppet) Events() <-chan puppet.Event { return p.events }
func (p *fakePuppet) Start(ctx context.Context) error {
	p.w.mu.Lock()
	p.w.loginsNow++
	p.w.loginsMax = max(p.w.loginsMax, p.w.loginsNow)
	gate := p.w.loginGate
	p.w.mu.Unlock()
	defer func() { p.w.mu.Lock(); p.w.loginsNow--; p.w.mu.Unlock() }()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.w.start(p.node, p.bot)
	return nil
}
func (p *fakePuppet) Stop(context.Context) error { p.w.stop(p.node, p.bot); return nil }
func (p *fakePuppet) Say(context.Context, string, string) error {
	p.w.mu.Lock()
	p.w.acts++
	p.w.mu.Unlock()
	return nil
}
func (p *fakePuppet) Rooms(context.Context) ([]puppet.Room, error)       { return nil, nil }
func (p *fakePuppet) Contacts(context.Context) ([]puppet.Contact, error) { return nil, nil }
func (p *fakePuppet) Close() error                                       { p.once.Do(func() { close(p.events) }); return nil }

// fakeDriver is a pool: it starts what it is lent and stops it when
// asked.
type fakeDriver struct {
	mu  sync.Mutex
	ps  map[string]puppet.Puppet
	log []string
}

func (d *fakeDriver) Drive(ctx context.Context, p puppet.Puppet, l Lease) error {
	d.mu.Lock()
	d.ps[l.Bot] = p
	d.log = append(d.log, "drive "+l.Bot)
	d.mu.Unlock()
	return p.Start(ctx)
}

func (d *fakeDriver) Undrive(ctx context.Context, l Lease, release bool) error {
	bot := l.Bot
	d.mu.Lock()
	p := d.ps[bot]
	delete(d.ps, bot)
	d.log = append(d.log, fmt.Sprintf("undrive %s released=%v", bot, release))
	d.mu.Unlock()
	if p == nil {
		return errors.New("not driven")
	}
	err := p.Stop(ctx)
	_ = p.Close()
	return err
}

func (d *fakeDriver) say(bot string) error {
	d.mu.Lock()
	p := d.ps[bot]
	d.mu.Unlock()
	if p == nil {
		return errors.New("not driven here")
	}
	return p.Say(context.Background(), "alice", "hi")
}

// cutDialer lets a test cut one node's client off from Redis.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (c *cutDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return nil, errors.New("cut off")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil {
		c.conns = append(c.conns, conn)
	}
	return conn, err
}

func (c *cutDialer) setCut(cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = cut
	if cut {
		for _, conn := range c.conns {
			_ = conn.Close()
		}
		c.conns = nil
	}
}

type node struct {
	c      *Cluster
	d      *fakeDriver
	cut    *cutDialer
	cancel context.CancelFunc
}

var ownerTiming = Timing{Lease: 3 * time.Second, RenewDeadline: 2 * time.Second, Retry: 400 * time.Millisecond}

func startNode(t *testing.T, mi *mini, w *world, name string, bots []string, opts ...Option) *node {
	cut := &cutDialer{}
	rdb := redis.NewClient(&redis.Options{Addr: mi.m.Addr(), Dialer: cut.dial, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	c, err := New("", append([]Option{WithClient(rdb), WithNode(name), WithTiming(ownerTiming), WithPrefix("t")}, opts...)...)
	require.NoError(t, err)
	for _, b := range bots {
		require.NoError(t, c.Register(b, &fakePuppet{w: w, node: name, bot: b, events: make(chan puppet.Event)}))
	}
	d := &fakeDriver{ps: map[string]puppet.Puppet{}}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, c.Start(ctx, d))
	n := &node{c: c, d: d, cut: cut, cancel: cancel}
	t.Cleanup(func() {
		_ = c.Stop(context.Background())
		cancel()
		_ = rdb.Close()
	})
	return n
}

// ownerTest runs f in a synctest bubble with a new miniredis (made
// outside the bubble, see mini) and a new world.
func ownerTest(t *testing.T, f func(t *testing.T, mi *mini, w *world)) {
	mi := newMini(t)
	synctest.Test(t, func(t *testing.T) { f(t, mi, newWorld()) })
}

// run moves the clock by d in steps, expiring miniredis's keys as it
// goes.
func (mi *mini) run(d time.Duration) {
	const step = 50 * time.Millisecond
	for ; d > 0; d -= step {
		mi.advance(min(step, d))
	}
}

func botNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("bot-%d", i)
	}
	return out
}

func heldBots(c *Cluster) []string {
	var out []string
	for _, l := range c.Held() {
		out = append(out, l.Bot)
	}
	return out
}

func TestNodesShareTheBotsUpToTheirCapacity(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		bots := botNames(6)
		a := startNode(t, mi, w, "a", bots, WithCapacity(3))
		b := startNode(t, mi, w, "b", bots, WithCapacity(3))
		c := startNode(t, mi, w, "c", bots, WithCapacity(3))
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry) // the first grants' quiet period, then a try

		total := len(a.c.Held()) + len(b.c.Held()) + len(c.c.Held())
		assert.Equal(t, 6, total, "every bot is driven")
		for _, n := range []*node{a, b, c} {
			assert.LessOrEqual(t, len(n.c.Held()), 3, "capacity")
		}
		for _, bot := range bots {
			assert.Len(t, w.drivers(bot), 1, bot)
		}
		mi.run(10 * ownerTiming.Lease)
		assert.Equal(t, 1, w.maxDrivers(), "never two drivers at once")
		assert.Equal(t, 6, len(a.c.Held())+len(b.c.Held())+len(c.c.Held()), "renewals keep them")
	})
}

// A node that dies: its bots are taken within a lease and a retry of its
// last renewal, by the standby.
func TestAStandbyTakesADeadNodesBots(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		bots := botNames(2)
		a := startNode(t, mi, w, "a", bots)
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		require.Equal(t, bots, heldBots(a.c))
		b := startNode(t, mi, w, "b", bots)
		mi.run(3 * ownerTiming.Lease)
		assert.Empty(t, b.c.Held(), "a new node takes free bots only")

		a.cancel() // dies: no renewal, no release
		w.crash("a")
		died := time.Now()
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		assert.Equal(t, bots, heldBots(b.c))
		for _, bot := range bots {
			assert.Equal(t, []string{"b"}, w.drivers(bot))
			took := w.since[bot].Sub(died)
			assert.LessOrEqual(t, took, ownerTiming.Lease+ownerTiming.Retry, "%s taken over in %v", bot, took)
		}
		assert.Equal(t, 1, w.maxDrivers())
	})
}

// A node cut off from Redis stops driving at its renew deadline, before
// its lease ends in Redis and another node takes the bot.
func TestACutOffNodeStopsBeforeItsLeaseEnds(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		a := startNode(t, mi, w, "a", []string{"bot"})
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		require.Equal(t, []string{"bot"}, heldBots(a.c))
		_ = startNode(t, mi, w, "b", []string{"bot"})
		mi.run(ownerTiming.Retry)

		a.d.mu.Lock()
		lent := a.d.ps["bot"]
		a.d.mu.Unlock()
		a.cut.setCut(true)
		require.NoError(t, a.d.say("bot"), "still a's until its renew deadline")
		mi.run(ownerTiming.RenewDeadline)
		err := lent.Say(context.Background(), "alice", "late")
		assert.ErrorIs(t, err, puppet.ErrNotSent, "past its renew deadline a refuses to drive (not sent, never sent)")
		assert.Empty(t, w.drivers("bot"), "a has stopped its puppet; b may not take it yet")
		mi.run(ownerTiming.Lease - ownerTiming.RenewDeadline + 2*ownerTiming.Retry)
		assert.Equal(t, []string{"b"}, w.drivers("bot"))
		a.cut.setCut(false)
		mi.run(3 * ownerTiming.Retry)
		assert.Empty(t, a.c.Held(), "a, back, finds the bot taken")
		assert.Equal(t, 1, w.maxDrivers())
	})
}

func TestDriveThroughOutageKeepsDriving(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		a := startNode(t, mi, w, "a", []string{"bot"}, WithDriveThroughOutage())
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		_ = startNode(t, mi, w, "b", []string{"bot"})
		a.cut.setCut(true)
		mi.run(3 * ownerTiming.Lease)
		assert.NoError(t, a.d.say("bot"), "the other choice: drive on through the outage")
		assert.Equal(t, []string{"a", "b"}, w.drivers("bot"), "the price: b, which reaches Redis, took the bot too")
		a.cut.setCut(false)
		mi.run(ownerTiming.Lease) // go-redis dials again after a second
		assert.Empty(t, a.c.Held(), "back: Redis says the lease is gone, so a stops")
		assert.Equal(t, []string{"b"}, w.drivers("bot"))
	})
}

func TestHandoverAndCleanStop(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		a := startNode(t, mi, w, "a", []string{"bot"})
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		b := startNode(t, mi, w, "b", []string{"bot"})
		c := startNode(t, mi, w, "c", []string{"bot"})
		mi.run(ownerTiming.Retry)

		assert.ErrorIs(t, b.c.Handover(context.Background(), "bot", "c"), ErrNotHeld)
		require.NoError(t, a.c.Handover(context.Background(), "bot", "c"))
		assert.Empty(t, w.drivers("bot"), "a stopped its puppet before letting go")
		mi.run(2 * ownerTiming.Retry)
		assert.Equal(t, []string{"c"}, w.drivers("bot"), "only the node handed to takes it")
		assert.Equal(t, []string{"a", "c"}, w.starts["bot"])

		stopped := time.Now()
		require.NoError(t, c.c.Stop(context.Background()))
		assert.NotContains(t, w.drivers("bot"), "c", "c stopped its puppet")
		mi.run(2 * ownerTiming.Retry)
		require.Len(t, w.drivers("bot"), 1, "a clean stop releases: another node takes it at its next try")
		assert.Less(t, w.since["bot"].Sub(stopped), ownerTiming.Lease)
		assert.Equal(t, 1, w.maxDrivers())
	})
}

func TestLoginsAreCappedClusterWide(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		gate := make(chan struct{})
		w.loginGate = gate
		bots := botNames(6)
		a := startNode(t, mi, w, "a", bots, WithCapacity(3), WithLoginConcurrency(2))
		b := startNode(t, mi, w, "b", bots, WithCapacity(3), WithLoginConcurrency(2))
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		assert.Equal(t, 6, len(a.c.Held())+len(b.c.Held()))
		w.mu.Lock()
		assert.Equal(t, 2, w.loginsNow, "two logins under way, the others wait for a slot")
		w.mu.Unlock()
		close(gate)
		mi.run(ownerTiming.Retry)
		w.mu.Lock()
		assert.Equal(t, 2, w.loginsMax)
		w.mu.Unlock()
		for _, bot := range bots {
			assert.Len(t, w.drivers(bot), 1)
		}
	})
}

func TestRedisLosingItsDataStopsEveryHolder(t *testing.T) {
	ownerTest(t, func(t *testing.T, mi *mini, w *world) {
		bots := botNames(2)
		a := startNode(t, mi, w, "a", bots[:1])
		b := startNode(t, mi, w, "b", bots)
		mi.run(ownerTiming.Lease + 2*ownerTiming.Retry)
		require.Equal(t, 2, len(a.c.Held())+len(b.c.Held()))

		mi.m.FlushAll()
		mi.run(ownerTiming.Retry + 50*time.Millisecond)
		assert.Empty(t, a.c.Held(), "the next renewal finds the lease gone")
		assert.Empty(t, b.c.Held())
		for _, bot := range bots {
			assert.Empty(t, w.drivers(bot))
		}
		mi.run(ownerTiming.Lease - 2*ownerTiming.Retry)
		assert.Equal(t, 0, len(a.c.Held())+len(b.c.Held()), "quiet for a lease")
		mi.run(3 * ownerTiming.Retry)
		assert.Equal(t, 2, len(a.c.Held())+len(b.c.Held()), "then driven again")
		assert.Equal(t, 1, w.maxDrivers())
	})
}

func TestClusterBadInput(t *testing.T) {
	_, err := New("")
	assert.Error(t, err)
	_, err = New("redis://u:hunter2@127.0.0.1:1/0?bogus=1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	_, err = New("redis://127.0.0.1:1", WithCapacity(0))
	assert.Error(t, err)
	_, err = New("redis://127.0.0.1:1", WithTiming(Timing{}))
	assert.Error(t, err)
	_, err = New("redis://127.0.0.1:1", WithNode("a|b"))
	assert.Error(t, err)
	_, err = New("redis://127.0.0.1:1", nil)
	assert.Error(t, err)
	c, err := New("redis://127.0.0.1:1")
	require.NoError(t, err)
	assert.Error(t, c.Register("", &fakePuppet{}))
	assert.Error(t, c.Register("x", nil))
	assert.Error(t, c.Start(context.Background(), nil))
	assert.Error(t, c.Handover(context.Background(), "x", c.Node()))
	require.NoError(t, c.Stop(context.Background()))
	assert.ErrorIs(t, c.Register("x", &fakePuppet{}), ErrStopped)
}
