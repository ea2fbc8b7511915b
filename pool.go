package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/cluster"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/hawechaty/hawechaty/store"
)

// Errors returned by a Pool.
var (
	// ErrNoBot: no available bot can reach the target.
	ErrNoBot = errors.New("hawechaty: no available bot")
	// ErrStopped: the pool was stopped.
	ErrStopped = errors.New("hawechaty: pool stopped")
	// ErrDuplicateBot: Add with a name already in the pool.
	ErrDuplicateBot = errors.New("hawechaty: bot already in the pool")
	// ErrUnknownBot: Remove with a name not in the pool.
	ErrUnknownBot = errors.New("hawechaty: no such bot")
	// ErrNotFound: Find found nothing.
	ErrNotFound = errors.New("hawechaty: not found")
	// ErrNotStarted: Say before Start has started the pool.
	ErrNotStarted = errors.New("hawechaty: pool not started")
	// ErrUnreachable: every bot tried refused the target as not a friend
	// (the error wraps puppet.ErrNotFriend too).
	ErrUnreachable = errors.New("hawechaty: no bot can reach the target")
	// ErrRateLimited: every bot that could send was over its send budget
	// (WithRateLimit) until the caller's context ended; nothing was sent.
	ErrRateLimited = errors.New("hawechaty: rate limited")
)

// Pool is several bots behind one API. Create it with New (or NewSlice, to
// keep its state in an application's store), add bots with Add, then
// Start. All methods are safe for concurrent use.
//
// The Pool is a view and a lifecycle: what the pool knows is the store's
// state (reducers.Pool), which only the reducer changes. The Pool holds
// the puppets (resources, not state), turns their events into actions
// (Translate), and waits for the state to say how a send ended.
type Pool struct {
	cfg   config
	log   *slog.Logger
	st    backend
	own   *store.Store[reducers.Pool] // the store New made; nil for a slice
	inbox *inbox

	events *eventHub // the Events channels: events.go

	roster sync.Mutex // serializes Add and Remove: a puppet and its bot's record change together
	mu     sync.Mutex
	bots   map[string]*member
	index  memberIndex // bots, for lookups without mu
	state  lifeState
	wg     sync.WaitGroup // pumps

	stopDone  chan struct{} // closed when the shutdown has finished
	watchDone chan struct{} // closed when the watch on Start's context has returned
	cancel    context.CancelFunc

	bell    doorbell
	sendSeq atomic.Uint64
	cl      *poolCluster // WithCluster; nil for a pool of one process

	// Room finds rooms across the pool.
	Room RoomFinder
	// Contact finds contacts across the pool.
	Contact ContactFinder
}

type lifeState uint8

const (
	created lifeState = iota
	starting
	running
	stopped
)

// backend is the store the pool's state lives in, whatever the state type
// of the application around it.
type backend interface {
	pool() reducers.Pool
	dispatch(actions.Action) error
	start(context.Context) error
	stop()
	done() <-chan struct{}
}

type storeBackend[S any] struct {
	st  *store.Store[S]
	get func(S) reducers.Pool
}

func (b storeBackend[S]) pool() reducers.Pool             { return b.get(b.st.State()) }
func (b storeBackend[S]) dispatch(a actions.Action) error { return b.st.Dispatch(a) }
func (b storeBackend[S]) stop()                           { b.st.Stop() }
func (b storeBackend[S]) done() <-chan struct{}           { return b.st.Done() }
func (b storeBackend[S]) start(ctx context.Context) error {
	if err := b.st.Start(ctx); err != nil && !errors.Is(err, store.ErrStarted) {
		return err
	}
	return nil
}

// New returns a stopped pool with no bots, in a store of its own.
func New(opts ...Option) (*Pool, error) {
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	identity := func(s reducers.Pool) reducers.Pool { return s }
	sopts := append([]store.Option[reducers.Pool]{store.WithLogger[reducers.Pool](p.log)}, storeOptions(p, identity)...)
	st, err := store.New(p.cfg.ha.Reducer(), reducers.Pool{}, append(sopts, p.cfg.storeOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("hawechaty: %w", err)
	}
	p.own = st
	p.st = storeBackend[reducers.Pool]{st: st, get: identity}
	return p, nil
}

func newPool(opts []Option) (*Pool, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:      cfg,
		log:      cfg.log,
		bots:     map[string]*member{},
		stopDone: make(chan struct{}),
		inbox:    newInbox(cfg.msgBuffer),
		events:   newEventHub(cfg.evBuffer),
		bell:     doorbell{waiters: map[string]*waiter{}},
	}
	p.Room = RoomFinder{pool: p}
	p.Contact = ContactFinder{pool: p}
	if cfg.cluster != nil {
		if p.cl, err = newPoolCluster(p, cfg.cluster); err != nil {
			return nil, err
		}
		p.cfg.ha.Node = p.cl.c.Node()
	}
	return p, nil
}

// storeOptions are the pool's epics and its doorbell, for a store whose
// state holds the pool where get says.
func storeOptions[S any](p *Pool, get func(S) reducers.Pool) []store.Option[S] {
	deps := epics.Deps{Puppet: p.puppet, PuppetAt: p.puppetAt, Deliver: p.deliver, Log: p.log}
	if p.cl != nil {
		deps.Forward = p.cl.fw
	}
	ha := p.cfg.ha
	opts := []store.Option[S]{
		store.WithCommitHook(doorbellHook(&p.bell, get)),
		store.WithEpic("clock", epics.Clock(get)),
		store.WithEpic("effects", epics.Effect(get, epics.All(ha, deps), p.events.handler())),
	}
	if p.cl != nil {
		opts = append(opts, store.WithEpic("cluster-publish", cluster.PublishEpic(p.cl.feed, get)),
			store.WithMiddleware(cluster.InboundMiddleware(p.cl.in, get)))
	}
	return opts
}

// Store returns the store New made for the pool, to subscribe to changes
// or to attach Redux DevTools; nil for a pool made by NewSlice, whose
// state is in the application's store.
func (p *Pool) Store() *store.Store[reducers.Pool] { return p.own }

// State returns the latest pool state.
func (p *Pool) State() reducers.Pool { return p.st.pool() }

// Health returns a summary of the pool.
func (p *Pool) Health() selectors.Health {
	h := selectors.PoolHealth.Select(p.st.pool())
	h.Failed = slices.Clone(h.Failed) // the selector's cached slices stay the selector's
	h.Unfollowed = slices.Clone(h.Unfollowed)
	return h
}

// Messages returns the inbound messages the pool accepted (see
// actions.MessageAccepted): each once even when several bots see it, and
// neither heartbeat answers nor messages sent by a bot of the pool (so an
// echo bot does not talk to itself). The channel is closed when the pool
// stops: by Stop, or when the context given to Start ends.
func (p *Pool) Messages() <-chan Message { return p.inbox.out }

func (p *Pool) deliver(m actions.MessagePayload) {
	p.inbox.deliver(Message{ID: m.MessageID, From: m.From, Room: m.Room, Text: m.Text, Bot: m.Bot, Time: m.Time, Kind: m.Kind, pool: p})
}

// stopTimeout bounds the puppets' Stop calls in the shutdown that begins
// when Start's context ends (that context can no longer bound them).
const stopTimeout = 30 * time.Second

// Start starts the pool's epics and every puppet. It returns the errors of
// the puppets that did not start, joined; the pool runs anyway, and those
// bots are reset with backoff once FailAfter passes without a login.
//
// When ctx ends the pool stops as Stop does: its puppets are stopped and
// closed (each Stop bounded by 30 s), Messages is closed, and Add, Say and
// Start return ErrStopped. A later Stop waits for that shutdown.
func (p *Pool) Start(ctx context.Context) error {
	p.mu.Lock()
	switch p.state {
	case stopped:
		p.mu.Unlock()
		return ErrStopped
	case starting, running:
		p.mu.Unlock()
		return errors.New("hawechaty: pool already started")
	}
	p.state = starting
	runCtx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	p.watchDone = make(chan struct{})
	go p.stopWhenDone(runCtx, p.watchDone)
	members := p.membersLocked()
	p.mu.Unlock()

	p.inbox.start()
	if err := p.st.start(runCtx); err != nil {
		if errors.Is(err, store.ErrStopped) {
			err = ErrStopped
		}
		return fmt.Errorf("hawechaty: %w", err)
	}
	p.mu.Lock()
	if p.state == starting {
		p.state = running
	}
	p.mu.Unlock()
	var errs []error
	if p.cl != nil {
		if err := p.cl.start(runCtx); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: cluster: %w", err))
		}
	}
	for name, m := range members {
		if runCtx.Err() != nil {
			errs = append(errs, fmt.Errorf("hawechaty: start %q: %w", name, ErrStopped))
			continue
		}
		if err := callBounded(ctx, func(ctx context.Context) error { return m.p.Start(ctx) }); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: start %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Logout stops every puppet (they log out); the pool keeps running and
// resets them as it does failed bots. Use Stop to end the pool. Logout
// returns by ctx's end even when a puppet ignores its context.
func (p *Pool) Logout(ctx context.Context) error {
	var errs []error
	p.mu.Lock()
	members := p.membersLocked()
	p.mu.Unlock()
	for name, m := range members {
		if err := callBounded(ctx, func(ctx context.Context) error { return m.p.Stop(ctx) }); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: logout %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// callBounded runs f and returns when it does or when ctx ends, whichever
// comes first: a puppet deaf to its context does not hold the caller. f
// goes on in the background; the puppet's call tracking waits for it
// before the puppet is closed.
func callBounded(ctx context.Context, f func(context.Context) error) error {
	if ctx.Done() == nil {
		return f(ctx)
	}
	res := make(chan error, 1)
	go func() { res <- f(ctx) }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopWhenDone stops the pool when Start's context ends. Stop cancels
// that context too, so this goroutine always returns.
func (p *Pool) stopWhenDone(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if err := p.shutdown(sctx); err != nil {
		p.log.Warn("hawechaty: stopping after the Start context ended", "err", err)
	}
}

// Stop stops the epics and every puppet, closes them, and waits for the
// pool's goroutines. A Say in flight ends with ErrStopped: wrapped in a
// *SendError with the unknown outcome when an attempt was under way,
// since the message may have left. Stop on a pool that is stopping
// (another Stop, or the end of Start's context) waits, bounded by ctx,
// for that shutdown and returns nil.
//
// Calls under way into a puppet (a Say, a reset's Start) end before the
// puppet is stopped and closed; new ones are refused as not sent. ctx
// bounds the wait: should a puppet ignore its context, Stop returns ctx's
// error when ctx ends, and the shutdown finishes in the background, each
// of its steps bounded by 30 s.
//
// Stop waits for the pool's goroutines, so it must not be called on them:
// not from a puppet's method, nor from middleware on the dispatch path.
// There, cancel the context given to Start.
//
// A nil ctx is taken as context.Background(): no bound on the wait.
func (p *Pool) Stop(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	err := p.shutdown(ctx)
	p.mu.Lock()
	watch := p.watchDone
	p.mu.Unlock()
	if watch != nil {
		select {
		case <-watch:
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
	return err
}

// shutdown stops the pool once; a later call waits for the first.
func (p *Pool) shutdown(ctx context.Context) error {
	var clErr error
	if p.cl != nil {
		// First: stop the puppets and release the leases, while the
		// store and the pool still run.
		clErr = p.cl.stop(ctx)
	}
	p.roster.Lock()
	p.mu.Lock()
	if p.state == stopped {
		done := p.stopDone
		p.mu.Unlock()
		p.roster.Unlock()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.state = stopped
	bots := p.bots
	p.bots = map[string]*member{}
	p.index.reset()
	cancel := p.cancel
	p.mu.Unlock()
	p.roster.Unlock()

	var err error
	go func() {
		defer close(p.stopDone)
		err = p.stopAll(ctx, bots, cancel)
	}()
	select {
	case <-p.stopDone:
		return errors.Join(clErr, err)
	case <-ctx.Done():
		return fmt.Errorf("hawechaty: stop: %w (the pool goes on stopping in the background)", ctx.Err())
	}
}

// stopAll stops the store (and with it the epics), then every puppet, and
// waits for the pool's goroutines.
func (p *Pool) stopAll(ctx context.Context, bots map[string]*member, cancel context.CancelFunc) error {
	p.st.stop()
	if cancel != nil {
		cancel()
	}
	base := context.WithoutCancel(ctx) // the steps go on when the caller stops waiting
	var errs []error
	for name, m := range bots {
		close(m.done)
		if err := stopMember(base, m); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: %q: %w", name, err))
		}
	}
	p.wg.Wait()
	p.inbox.close()
	p.events.close()
	p.bell.ringAll()
	return errors.Join(errs...)
}
