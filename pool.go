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
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
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
)

// SendError is the error of a Say that did not deliver. It wraps ErrNoBot,
// puppet.ErrNotSent, puppet.ErrOutcomeUnknown or puppet.ErrPermanent, so
// errors.Is tells what happened. When the caller's context ended the send
// it wraps that context's error (context.Canceled or
// context.DeadlineExceeded), and puppet.ErrOutcomeUnknown as well if the
// message may have left (outcome "abandoned").
type SendError struct {
	ID       string // the send's ID, as in the store's actions
	To       string
	Bot      string // the last bot tried, if any
	Attempts int
	Outcome  string // as in actions.SendDonePayload
	Detail   string // the puppet's error text

	ctxErr error // the caller's context error, for "canceled" and "abandoned"
}

func (e *SendError) Error() string {
	msg := fmt.Sprintf("hawechaty: send %s to %q: %s", e.ID, e.To, e.Outcome)
	if e.Bot != "" {
		msg += fmt.Sprintf(" (bot %q, %d attempts)", e.Bot, e.Attempts)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel matching the outcome, and the caller's
// context error when the caller's context ended the send.
func (e *SendError) Unwrap() []error {
	ctxErr := e.ctxErr
	if ctxErr == nil {
		ctxErr = context.Canceled // a SendError built outside Say
	}
	switch e.Outcome {
	case reducers.OutcomeNoBot:
		return []error{ErrNoBot}
	case reducers.OutcomeNotSent:
		return []error{puppet.ErrNotSent}
	case reducers.OutcomePermanent:
		return []error{puppet.ErrPermanent}
	case reducers.OutcomeCanceled:
		return []error{ctxErr}
	case reducers.OutcomeAbandoned:
		return []error{ctxErr, puppet.ErrOutcomeUnknown}
	}
	if errors.Is(e.ctxErr, ErrStopped) { // the pool stopped during the attempt
		return []error{ErrStopped, puppet.ErrOutcomeUnknown}
	}
	return []error{puppet.ErrOutcomeUnknown}
}

// Receipt tells which bot delivered a message.
type Receipt struct {
	ID       string
	Bot      string
	Attempts int // more than 1 when the send failed over
}

// Pool is several bots behind one API. Create it with New, add bots with
// Add, then Start. All methods are safe for concurrent use.
type Pool struct {
	cfg   config
	log   *slog.Logger
	st    *store.Store[reducers.Pool]
	inbox *inbox

	mu        sync.Mutex
	bots      map[string]*member
	selves    map[string]int // the bots' own accounts (Self), with how many bots have each
	waiters   map[string]*waiter
	started   bool
	running   bool // the store started: Say may send
	stopped   bool
	stopDone  chan struct{}   // closed when the shutdown has finished
	watchDone chan struct{}   // closed when the watch on Start's context has returned
	runCtx    context.Context // the context Start was given; pumps and resets run under it
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	sendSeq atomic.Uint64

	// Room finds rooms across the pool.
	Room RoomFinder
	// Contact finds contacts across the pool.
	Contact ContactFinder
}

type member struct {
	p     puppet.Puppet // guarded and tracked: what everyone calls
	raw   puppet.Puppet // guarded only: Remove and Stop stop and close it
	calls *calls        // the calls under way through p
	done  chan struct{} // closed to stop the pump
	self  string        // the account it last logged in as; under Pool.mu
}

// newMember returns the member for a guarded puppet.
func newMember(pup puppet.Puppet) *member {
	c := newCalls()
	return &member{p: track(pup, c), raw: pup, calls: c, done: make(chan struct{})}
}

type waiter struct {
	ctx  context.Context
	done chan actions.SendDonePayload

	mu     sync.Mutex
	flying *actions.RoutePayload // the attempt a puppet is making, if any
	routed chan struct{}         // a token whenever an attempt begins
}

// attempt records the attempt a puppet is making for the send (from its
// SendRouted), or nil when it ended (its SendResult).
func (w *waiter) attempt(r *actions.RoutePayload) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flying = r
	if r != nil {
		select {
		case w.routed <- struct{}{}:
		default:
		}
	}
}

func (w *waiter) inFlight() *actions.RoutePayload {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flying
}

// New returns a stopped pool with no bots.
func New(opts ...Option) (*Pool, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:      cfg,
		log:      cfg.log,
		bots:     map[string]*member{},
		selves:   map[string]int{},
		waiters:  map[string]*waiter{},
		stopDone: make(chan struct{}),
		inbox:    newInbox(cfg.msgBuffer, cfg.dedupeSize),
	}
	p.Room = RoomFinder{pool: p}
	p.Contact = ContactFinder{pool: p}
	deps := epics.Deps{
		Puppet:      p.puppet,
		Dispatch:    func(a actions.Action) error { return p.st.Dispatch(a) },
		SendContext: p.sendContext,
		Log:         cfg.log,
	}
	ha := cfg.ha
	sopts := append([]store.Option[reducers.Pool]{
		store.WithLogger[reducers.Pool](cfg.log),
		store.WithMiddleware(p.completeSends),
		store.WithEpic("heartbeat", epics.Heartbeat(ha, deps)),
		store.WithEpic("reset", epics.Reset(ha, deps)),
		store.WithEpic("health", epics.PoolHealth()),
		store.WithEpic("send", epics.Send(ha, deps)),
	}, cfg.storeOpts...)
	st, err := store.New(reducers.PoolReducer, reducers.Pool{}, sopts...)
	if err != nil {
		return nil, fmt.Errorf("hawechaty: %w", err)
	}
	p.st = st
	return p, nil
}

// Store returns the pool's store, to subscribe to changes or to attach
// Redux DevTools.
func (p *Pool) Store() *store.Store[reducers.Pool] { return p.st }

// State returns the latest pool state.
func (p *Pool) State() reducers.Pool { return p.st.State() }

// Health returns a summary of the pool.
func (p *Pool) Health() selectors.Health {
	h := selectors.PoolHealth.Select(p.st.State())
	h.Failed = slices.Clone(h.Failed) // the selector's cached slice stays the selector's
	return h
}

// Messages returns the inbound messages, each once even when several bots
// see it. Heartbeat answers are not included, nor are messages sent by
// any bot of the pool (their sender is a bot's own account, its Self): a
// room Say through one bot, seen by the others in the room, does not come
// back to the application, so an echo bot does not talk to itself. The
// channel is closed when the pool stops: by Stop, or when the context
// given to Start ends.
func (p *Pool) Messages() <-chan Message { return p.inbox.out }

func (p *Pool) puppet(bot string) (puppet.Puppet, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.bots[bot]
	if !ok {
		return nil, false
	}
	return m.p, true
}

func (p *Pool) sendContext(id string) context.Context {
	if w := p.waiter(id); w != nil {
		return w.ctx
	}
	return nil
}

// completeSends hands each SendDone to the Say waiting for it. As
// middleware it sees every action, so no completion is ever dropped.
func (p *Pool) completeSends(store.API[reducers.Pool]) func(store.DispatchFunc) store.DispatchFunc {
	return func(next store.DispatchFunc) store.DispatchFunc {
		return func(a actions.Action) error {
			err := next(a)
			switch a.Type {
			case actions.SendRouted.Type():
				r, _ := actions.SendRouted.Match(a)
				if w := p.waiter(r.ID); w != nil {
					w.attempt(&r)
				}
			case actions.SendResult.Type():
				r, _ := actions.SendResult.Match(a)
				if w := p.waiter(r.ID); w != nil {
					w.attempt(nil)
				}
				if r.Outcome == reducers.OutcomePermanent {
					// A bot that left a room fails there for good: list its
					// rooms again, so that the next send goes to a member.
					p.mu.Lock()
					m := p.bots[r.Bot]
					p.mu.Unlock()
					if m != nil {
						p.learnRooms(r.Bot, m)
					}
				}
			case actions.SendDone.Type():
				d, _ := actions.SendDone.Match(a)
				p.mu.Lock()
				w := p.waiters[d.ID]
				delete(p.waiters, d.ID)
				p.mu.Unlock()
				if w != nil {
					w.done <- d // capacity 1, one SendDone per send
				}
			}
			return err
		}
	}
}

// waiter returns the Say waiting for send id, or nil.
func (p *Pool) waiter(id string) *waiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiters[id]
}

// Add puts a puppet in the pool under its Name, guarded (puppet.Guard): a
// panic in one of its methods becomes that call's error. In a started pool the
// puppet is started at once and its start error is returned; the bot stays
// in the pool and is reset like any failed bot. When Add fails for any
// other reason the bot is not in the pool (the name can be added again),
// and a stopped pool (see Start) refuses it with ErrStopped.
func (p *Pool) Add(ctx context.Context, pup puppet.Puppet) error {
	if pup == nil {
		return errors.New("hawechaty: Add(nil)")
	}
	// The pool calls puppets on its own goroutines: a panic in one is
	// turned into that call's error instead of ending the program.
	pup = puppet.Guard(pup)
	name := pup.Name()
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	if _, dup := p.bots[name]; dup {
		p.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrDuplicateBot, name)
	}
	m := newMember(pup)
	p.bots[name] = m
	started := p.started
	p.mu.Unlock()

	if err := p.st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: name, Puppet: kindOf(name)}).WithSource("pool")); err != nil {
		p.mu.Lock()
		if p.bots[name] == m {
			delete(p.bots, name)
		}
		p.mu.Unlock()
		if errors.Is(err, store.ErrStopped) {
			err = ErrStopped
		}
		return fmt.Errorf("hawechaty: add %q: %w", name, err)
	}
	p.mu.Lock()
	if p.bots[name] != m { // stopped or removed meanwhile: Stop or Remove has it
		stopped := p.stopped
		p.mu.Unlock()
		if stopped {
			return fmt.Errorf("hawechaty: add %q: %w", name, ErrStopped)
		}
		return nil
	}
	p.wg.Add(1) // under p.mu: a Stop that took the bots waits for the pump
	p.mu.Unlock()
	go p.pump(name, m)
	if started {
		if err := m.p.Start(ctx); err != nil {
			return fmt.Errorf("hawechaty: start %q: %w", name, err)
		}
	}
	return nil
}

func kindOf(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '#' {
			return name[:i]
		}
	}
	return name
}

// Remove takes a bot out of the pool: no send is routed to it any more,
// and its puppet is stopped and closed. (HAWechaty never implemented this.)
func (p *Pool) Remove(ctx context.Context, name string) error {
	p.mu.Lock()
	m, ok := p.bots[name]
	if ok {
		delete(p.bots, name)
		p.setSelfLocked(m, "")
	}
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownBot, name)
	}
	var errs []error
	if err := p.st.Dispatch(actions.BotRemoved.New(actions.BotPayload{Bot: name}).WithSource("pool")); err != nil && !errors.Is(err, store.ErrStopped) {
		errs = append(errs, err)
	}
	close(m.done)
	if err := p.stopMember(ctx, m); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hawechaty: remove %q: %w", name, err)
	}
	return nil
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
	if p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	if p.started {
		p.mu.Unlock()
		return errors.New("hawechaty: pool already started")
	}
	p.started = true
	runCtx, cancel := context.WithCancel(ctx)
	p.runCtx, p.cancel = runCtx, cancel
	p.watchDone = make(chan struct{})
	go p.stopWhenDone(runCtx, p.watchDone)
	members := make(map[string]*member, len(p.bots))
	for n, m := range p.bots {
		members[n] = m
	}
	p.mu.Unlock()

	p.inbox.start()
	if err := p.st.Start(runCtx); err != nil {
		if errors.Is(err, store.ErrStopped) {
			err = ErrStopped
		}
		return fmt.Errorf("hawechaty: %w", err)
	}
	p.mu.Lock()
	p.running = true
	p.mu.Unlock()
	// Bots added before the epics ran are watched by the heartbeat from its
	// start (it reads the state when it subscribes); later ones from their
	// BotAdded.
	var errs []error
	for name, m := range members {
		if runCtx.Err() != nil {
			errs = append(errs, fmt.Errorf("hawechaty: start %q: %w", name, ErrStopped))
			continue
		}
		if err := m.p.Start(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: start %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Logout stops every puppet (they log out); the pool keeps running and
// its reset loop will start them again. Use Stop to end the pool.
func (p *Pool) Logout(ctx context.Context) error {
	var errs []error
	for name, m := range p.members() {
		if err := m.p.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: logout %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Pool) members() map[string]*member {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*member, len(p.bots))
	for n, m := range p.bots {
		out[n] = m
	}
	return out
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
// pool's goroutines. Says in flight end with ErrStopped: wrapped in a
// *SendError with the unknown outcome for one whose puppet was sending,
// since the message may have left. Stop on a pool
// that is stopping (another Stop, or the end of Start's context) waits,
// bounded by ctx, for that shutdown and returns nil.
//
// Calls under way into a puppet (a Say, a reset's Start) end before the
// puppet is stopped and closed; new ones are refused as not sent. ctx
// bounds the wait: should a puppet ignore its context, Stop returns ctx's
// error when ctx ends, and the shutdown finishes in the background, each
// of its steps bounded by 30 s.
//
// Stop waits for the pool's goroutines, so it must not be called on them:
// not from a puppet's method, nor from middleware on the dispatch path.
// There, cancel the context given to Start: the pool then stops the same
// way without anyone waiting.
func (p *Pool) Stop(ctx context.Context) error {
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
	p.mu.Lock()
	if p.stopped {
		done := p.stopDone
		p.mu.Unlock()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.stopped = true
	bots := p.bots
	p.bots = map[string]*member{}
	cancel := p.cancel
	p.mu.Unlock()

	// The steps wait for epics and puppets, which may be stuck in a puppet
	// call that ignores its context: ctx bounds the wait, not the steps.
	var err error
	go func() {
		defer close(p.stopDone)
		err = p.stopAll(ctx, bots, cancel)
	}()
	select {
	case <-p.stopDone:
		return err
	case <-ctx.Done():
		return fmt.Errorf("hawechaty: stop: %w (the pool goes on stopping in the background)", ctx.Err())
	}
}

// stopMember waits for the calls under way into a removed puppet, then
// stops and closes it, each step bounded by base and by stopTimeout of its
// own, so that a slow bot does not eat the next one's time.
func (p *Pool) stopMember(base context.Context, m *member) error {
	var errs []error
	ctx, cancel := context.WithTimeout(base, stopTimeout)
	if err := m.calls.drain(ctx); err != nil {
		errs = append(errs, err)
	}
	cancel()
	ctx, cancel = context.WithTimeout(base, stopTimeout)
	if err := m.raw.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop: %w", err))
	}
	cancel()
	if err := m.raw.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close: %w", err))
	}
	return errors.Join(errs...)
}

// stopAll stops the store (and with it the epics), then every puppet, and
// waits for the pool's goroutines.
func (p *Pool) stopAll(ctx context.Context, bots map[string]*member, cancel context.CancelFunc) error {
	p.st.Stop()
	if cancel != nil {
		cancel()
	}
	// The steps go on when the caller stops waiting, so they have their
	// own bound.
	base := context.WithoutCancel(ctx)
	var errs []error
	for name, m := range bots {
		close(m.done)
		if err := p.stopMember(base, m); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: %q: %w", name, err))
		}
	}
	p.wg.Wait()
	p.inbox.close()
	return errors.Join(errs...)
}

// Say sends text to a room or contact through one available bot that can
// reach it. It returns exactly once: a Receipt when a bot delivered, or a
// *SendError. A send that was certainly not sent is retried on the next
// bot; an unknown outcome is reported, never sent twice.
//
// ctx bounds the whole send, each attempt being bounded by the send
// timeout as well. When ctx ends first the error wraps ctx.Err(), and the
// failed attempt is not held against the bot: a caller's short deadline
// or cancellation never ejects a healthy bot. A Say whose ctx is already
// done sends nothing. Say returns at most 100 ms after ctx ends, even
// when the puppet does not honour its context: then the outcome is
// "abandoned" (the message may have left) and the attempt goes on to its
// end in the pool. Say fails at once before Start has started the pool.
func (p *Pool) Say(ctx context.Context, to, text string) (Receipt, error) {
	if to == "" {
		return Receipt{}, errors.New("hawechaty: Say with an empty target")
	}
	id := fmt.Sprintf("say-%d", p.sendSeq.Add(1))
	w := &waiter{ctx: ctx, done: make(chan actions.SendDonePayload, 1), routed: make(chan struct{}, 1)}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return Receipt{}, ErrStopped
	}
	if !p.running {
		p.mu.Unlock()
		return Receipt{}, errors.New("hawechaty: Say before Start has started the pool")
	}
	p.waiters[id] = w
	p.mu.Unlock()

	if err := p.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: to, Text: text}).WithSource("pool")); err != nil {
		p.mu.Lock()
		delete(p.waiters, id)
		p.mu.Unlock()
		if errors.Is(err, store.ErrStopped) {
			return Receipt{}, ErrStopped
		}
		return Receipt{}, fmt.Errorf("hawechaty: %w", err)
	}
	// When ctx ends between attempts the send epic ends the send at once,
	// as canceled: Say waits for that. During an attempt, a puppet that
	// honours its context answers at once too, but one that does not may
	// take until the attempt's timeout: Say waits abandonGrace for the
	// answer, then gives up on it.
	cancelled, gaveUp := ctx.Done(), false // Done is nil for a context that never ends
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	var graceC <-chan time.Time
	for {
		select {
		case d := <-w.done:
			return p.result(ctx, to, d)
		case <-p.st.Done():
			// The store stopped; its last actions may still have completed us.
			select {
			case d := <-w.done:
				return p.result(ctx, to, d)
			default:
				p.mu.Lock()
				delete(p.waiters, id)
				p.mu.Unlock()
				if r := w.inFlight(); r != nil { // the message may have left
					return Receipt{}, &SendError{ID: id, To: to, Bot: r.Bot, Attempts: r.Attempt, Outcome: reducers.OutcomeUnknown,
						Detail: "the pool stopped during the attempt", ctxErr: ErrStopped}
				}
				return Receipt{}, ErrStopped
			}
		case <-cancelled:
			cancelled, gaveUp = nil, true
		case <-w.routed:
		case <-graceC:
			if r := w.inFlight(); r != nil {
				return p.abandon(ctx, id, to, w, r)
			}
		}
		if gaveUp && grace == nil && w.inFlight() != nil {
			grace = time.NewTimer(abandonGrace)
			graceC = grace.C
		}
	}
}

// abandonGrace is how long Say waits, after its context ended during an
// attempt, for the puppet's answer before it reports the send abandoned.
const abandonGrace = 100 * time.Millisecond

// abandon ends a Say whose caller gave up while a puppet is sending: the
// message may have left, and the caller is told so now, whenever the
// puppet returns. The send itself goes on to its end in the store.
func (p *Pool) abandon(ctx context.Context, id, to string, w *waiter, r *actions.RoutePayload) (Receipt, error) {
	p.mu.Lock()
	_, waiting := p.waiters[id]
	delete(p.waiters, id)
	p.mu.Unlock()
	if !waiting { // its SendDone is on the way
		return p.result(ctx, to, <-w.done)
	}
	return Receipt{}, &SendError{ID: id, To: to, Bot: r.Bot, Attempts: r.Attempt, Outcome: reducers.OutcomeAbandoned,
		Detail: "the caller's context ended during the attempt", ctxErr: ctx.Err()}
}

func (p *Pool) result(ctx context.Context, to string, d actions.SendDonePayload) (Receipt, error) {
	if d.Outcome == reducers.OutcomeDelivered {
		return Receipt{ID: d.ID, Bot: d.Bot, Attempts: d.Attempts}, nil
	}
	return Receipt{}, &SendError{ID: d.ID, To: to, Bot: d.Bot, Attempts: d.Attempts, Outcome: d.Outcome, Detail: d.Error, ctxErr: ctx.Err()}
}

// pump turns one puppet's events into actions.
func (p *Pool) pump(name string, m *member) {
	defer p.wg.Done()
	src := "puppet/" + name
	dispatch := func(a actions.Action) {
		if err := p.st.Dispatch(a.WithSource(src)); err != nil && !errors.Is(err, store.ErrStopped) {
			p.log.Warn("hawechaty: event refused", "bot", name, "type", a.Type, "err", err)
		}
	}
	for {
		var ev puppet.Event
		var ok bool
		select {
		case ev, ok = <-m.p.Events():
		case <-m.done:
			return
		}
		if !ok {
			return
		}
		switch ev.Kind {
		case puppet.EventLogin:
			p.mu.Lock()            // before Login: no send goes through the bot before its Self is known
			if p.bots[name] == m { // not removed meanwhile: Remove forgot its Self
				p.setSelfLocked(m, ev.Self)
			}
			p.mu.Unlock()
			dispatch(actions.Login.New(actions.LoginPayload{Bot: name, Self: ev.Self}))
			p.learnRooms(name, m)
		case puppet.EventLogout:
			reason := ev.Data
			if reason == "" {
				reason = "logged out"
			}
			dispatch(actions.Logout.New(actions.ReasonPayload{Bot: name, Reason: reason}))
		case puppet.EventScan:
			dispatch(actions.Scan.New(actions.BotPayload{Bot: name}))
		case puppet.EventDong:
			dispatch(actions.Dong.New(actions.BotPayload{Bot: name}))
		case puppet.EventHeartbeat:
			dispatch(actions.Heartbeat.New(actions.BotPayload{Bot: name}))
		case puppet.EventMessage:
			msg := ev.Message
			if msg == nil {
				continue
			}
			if msg.From == p.cfg.ha.HeartbeatContact && msg.Room == "" && msg.Text == "dong" {
				dispatch(actions.Dong.New(actions.BotPayload{Bot: name}))
				continue
			}
			dispatch(actions.Message.New(actions.MessagePayload{Bot: name, MessageID: msg.ID, From: msg.From, Room: msg.Room, Text: msg.Text}))
			if p.isSelf(msg.From) { // the pool's own message: a sign of life, not for the application
				continue
			}
			p.inbox.deliver(Message{ID: msg.ID, From: msg.From, Room: msg.Room, Text: msg.Text, Bot: name, Time: msg.Time, pool: p})
		case puppet.EventError:
			p.log.Warn("hawechaty: puppet error", "bot", name, "err", ev.Err)
		}
	}
}

// setSelfLocked records that m's bot is logged in as self ("" for none).
func (p *Pool) setSelfLocked(m *member, self string) {
	if m.self == self {
		return
	}
	if m.self != "" {
		if p.selves[m.self]--; p.selves[m.self] <= 0 {
			delete(p.selves, m.self)
		}
	}
	m.self = self
	if self != "" {
		p.selves[self]++
	}
}

// isSelf tells whether id is the own account of a bot of the pool.
func (p *Pool) isSelf(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.selves[id] > 0
}

// learnRooms records the rooms a bot is in, for routing.
func (p *Pool) learnRooms(name string, m *member) {
	p.mu.Lock()
	if p.stopped { // the shutdown waits for p.wg: add to it only before
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	base := p.runCtx
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		if base == nil {
			base = context.Background()
		}
		ctx, cancel := context.WithTimeout(base, p.cfg.ha.SendTimeout)
		defer cancel()
		go func() { // a removed bot stops its own lookup
			select {
			case <-m.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		rooms, err := m.p.Rooms(ctx)
		if err != nil {
			p.log.Warn("hawechaty: cannot list rooms", "bot", name, "err", err)
			return
		}
		p.roomsListed(name, rooms)
	}()
}

// roomsListed records the full list of the rooms a bot is in.
func (p *Pool) roomsListed(bot string, rooms []puppet.Room) {
	ids := make([]string, 0, len(rooms))
	for _, r := range rooms {
		ids = append(ids, r.ID)
	}
	if err := p.st.Dispatch(actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: ids}).WithSource("puppet/" + bot)); err != nil && !errors.Is(err, store.ErrStopped) {
		p.log.Warn("hawechaty: rooms refused", "bot", bot, "err", err)
	}
}
