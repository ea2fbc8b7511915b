package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// Errors returned by a Store.
var (
	// ErrStopped is returned by Dispatch after the store has stopped, and
	// to a middleware's goroutine whose store New did not return.
	ErrStopped = errors.New("store: stopped")
	// ErrStarted is returned by Start on a store that was started before.
	ErrStarted = errors.New("store: already started")
	// ErrNoType is returned by Dispatch for an action without a type.
	ErrNoType = errors.New("store: action has no type")
	// ErrBuilding is returned by Dispatch called synchronously from a
	// middleware factory, or from the function it returns, while New is
	// building the middleware chain.
	ErrBuilding = errors.New("store: dispatch while middleware is being built")
	// ErrInHook is returned by Dispatch, Replace, ReplaceReducer and
	// Start called from a commit hook (WithCommitHook), which runs under
	// the lock they need.
	ErrInHook = errors.New("store: dispatch from a commit hook")
	// ErrReducerPanicked is returned by Dispatch and Replace when the
	// reducer panicked on the action. The state is unchanged, nobody sees
	// the action, and the store goes on.
	ErrReducerPanicked = errors.New("store: reducer panicked")
)

// Reducer computes the next state from the previous one and an action: it
// is actions.Reducer, the one reducer type of the module.
type Reducer[S any] = actions.Reducer[S]

// DispatchFunc sends an action into the store.
type DispatchFunc func(actions.Action) error

// API is what middleware and epics may use of the store.
type API[S any] interface {
	// State returns the latest state.
	State() S
	// Dispatch sends an action through the whole middleware chain.
	Dispatch(actions.Action) error
}

// Middleware wraps dispatch, in the Redux shape: given the store API it
// returns a function from the next dispatch to a new dispatch. Middleware
// may dispatch other actions, swallow an action, or return an error.
//
// While New builds the chain, a dispatch made synchronously by a factory
// (or by the function it returns) gets ErrBuilding, as Redux throws; a
// dispatch from another goroutine, one the factory started, say, waits
// until the chain is built and then goes through all of it. A factory
// must therefore not wait for a dispatch it caused on another goroutine.
type Middleware[S any] func(api API[S]) func(next DispatchFunc) DispatchFunc

// Epic is a redux-observable epic on rxgo: it receives the stream of actions
// (each an actions.Action, after the reducers ran) and the state, and
// returns a stream of actions that the store dispatches. ctx ends when the
// store stops or the epic's output ends; pass rxgo.WithContext(ctx) to the
// operators that take it.
//
// The store calls the epic once Start has reduced actions.Init, and
// subscribes to its output at once. Subscriptions to actions:
//
//   - The epic's first subscription sees every action from actions.Init
//     on, in dispatch order, however late rxgo makes it: redux-observable
//     subscribes epics synchronously, before the next action, and rxgo
//     subscribes on goroutines that a busy machine may run much later, so
//     the store keeps a mailbox for the epic from Init until a
//     subscription claims it. An epic that can no longer subscribe (its
//     input Observable is garbage, its output ended, the store stopped)
//     loses its mailbox, so one that ignores its input costs nothing
//     beyond the next garbage collection.
//   - Every later subscription is hot, as in RxJS: it sees actions from the
//     moment it subscribes. This includes a second branch built on the same
//     input, as in Merge(in.Filter(isA), in.Filter(isB)): one branch is
//     the first subscription and the other may miss the actions dispatched
//     right after Start. Build an epic on one subscription (one Filter
//     that keeps both types, then route) when it must not miss those.
//   - An epic that keeps its input but subscribes first inside an inner
//     pipeline (a FlatMap on a timer, say) gets the mailbox there, with
//     every action since Init; until then the mailbox grows. Subscribe
//     once when the pipeline starts, and route from there.
//   - An inner pipeline that ends before the store stops (in.Filter(...)
//     .First() inside a FlatMap, say) must be given its own context,
//     cancelled when it ends: rxgo does not tell a source that its
//     subscriber left, and the input stays registered, and queued, until
//     its context ends.
//
// An epic that emits an error item, or something other than an action, is
// reported (logged and dispatched as actions.EpicFailed) and stops; the
// others go on. A panic while the epic function builds its pipeline is
// reported the same way; a panic inside an operator's callback runs on an
// rxgo goroutine and, as any goroutine's panic in Go, ends the program, so
// callbacks that may panic should recover and return an error. When the
// reducer panics on an action the epic emitted, the store logs it and
// dispatches actions.EpicFailed, and the epic goes on, as redux-observable
// reports such an error and goes on. Epics dispatch with Meta.Source
// "epic/<name>".
type Epic[S any] func(ctx context.Context, actions rxgo.Observable, state StateStream[S]) rxgo.Observable

// StateStream is an epic's view of the state: redux-observable's
// StateObservable.
type StateStream[S any] interface {
	// Value returns the latest state. When an epic handles an action, Value
	// already includes that action (and possibly later ones).
	Value() S
	// Observe returns an Observable of the state: a subscription gets the
	// current state at once, then each state that differs from the one
	// before, in dispatch order. States differ when they are not == (when
	// S is comparable; see the package doc), and every Replace is a new
	// state. An Observable made while the epic builds its pipeline is
	// claimed as its actions are: its first subscription starts from the
	// state before actions.Init, however late rxgo makes it. An epic that
	// does not call Observe then costs the store nothing for states; one
	// that calls it later (inside an inner pipeline) starts from the state
	// of that moment.
	Observe() rxgo.Observable
}

// Change is one step of the store: an action and the state it produced.
type Change[S any] struct {
	Action actions.Action
	State  S
}

// Store holds a state of type S and changes it only by reducing actions.
//
// Dispatch is serialized and safe from any goroutine; State never blocks.
// A store works without Start (reducers, middleware and subscriptions);
// Start runs its epics until the context ends or Stop is called.
type Store[S any] struct {
	reducer Reducer[S]
	log     *slog.Logger
	same    func(a, b S) bool // nil: every commit is a new state

	dispatch DispatchFunc  // the middleware chain: written by New before built
	built    atomic.Bool   // New has finished with the chain
	builtCh  chan struct{} // closed when built is set

	mu      sync.Mutex // serializes reduce
	clock   clock      // stamps Meta.Time; s.mu is held
	state   stateCell[S]
	seq     uint64
	subs    []*Subscription[S]
	pending []epicBoxes // registered when Start's actions.Init is reduced

	actionHub *itemHub
	stateHub  *itemHub
	directs   directs          // epics that take their actions directly (DirectInput)
	selects   []selectionOf[S] // Select's subscriptions; guarded by mu
	hooks     []func(actions.Action, *S)
	hooking   atomic.Bool // a commit hook runs
	hookNames []string    // of hooks' functions (inHook)

	epics []namedEpic[S]
	lifecycle
}

type namedEpic[S any] struct {
	name string
	fn   Epic[S]
}

// epicBoxes are an epic's mailboxes, for its actions and its states.
type epicBoxes struct {
	actions, states *mailbox
}

func (b epicBoxes) drop() {
	b.actions.drop()
	b.states.drop()
}

type lifecycle struct {
	started atomic.Bool
	stopped atomic.Bool
	done    chan struct{} // closed when stopping begins
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopMu  sync.Mutex
}

// New returns a store with the given reducer and initial state.
func New[S any](reducer Reducer[S], initial S, opts ...Option[S]) (*Store[S], error) {
	if reducer == nil {
		return nil, errors.New("store: New with a nil reducer")
	}
	cfg := config[S]{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("store: New with a nil option")
		}
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store[S]{
		reducer:   reducer,
		log:       cfg.log,
		same:      sameState[S](),
		builtCh:   make(chan struct{}),
		directs:   directs{kick: make(chan struct{}, 1)},
		actionHub: newHub[inlet](),
		stateHub:  newHub[inlet](),
		epics:     cfg.epics,
		hooks:     cfg.hooks,
		hookNames: hookNames(cfg.hooks),
	}
	s.done = make(chan struct{})
	s.state.store(initial)
	// Until the chain is built, goroutines that middleware started may
	// dispatch already: they wait for it (Dispatch). A store that New does
	// not return refuses them, also when a factory panics.
	ok := false
	defer func() {
		if !ok {
			s.stopped.Store(true)
			s.dispatch = func(actions.Action) error { return ErrStopped }
		}
		s.built.Store(true)
		close(s.builtCh)
	}()
	chain, err := s.build(cfg.middleware)
	if err != nil {
		return nil, err
	}
	s.dispatch, ok = chain, true
	return s, nil
}

// build wraps reduce in the middleware, the first one outermost.
func (s *Store[S]) build(mw []Middleware[S]) (DispatchFunc, error) {
	d := DispatchFunc(s.reduce)
	var err error
	building(func() {
		for i := len(mw) - 1; i >= 0; i-- {
			wrap := mw[i](s)
			if wrap == nil {
				err = fmt.Errorf("store: middleware %d returned a nil wrapper", i)
				return
			}
			if d = wrap(d); d == nil {
				err = fmt.Errorf("store: middleware %d returned a nil dispatch", i)
				return
			}
		}
	})
	return d, err
}

// State returns the latest state without a lock: it never waits for a
// commit, a reducer, a middleware, a subscriber or an epic, and a commit
// never waits for it.
func (s *Store[S]) State() S { return s.state.load() }

// Seq returns the number of actions reduced so far.
func (s *Store[S]) Seq() uint64 {
	if s.inHook() {
		return s.seq // the hook's goroutine holds the lock
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Dispatch sends a through the middleware chain to the reducer. It returns
// ErrStopped after Stop, ErrReducerPanicked (wrapped, with the panic) when
// the reducer panicked, and never blocks on subscribers or epics. After
// the chain returns it hands the queued actions to the epics that take
// them directly (DirectInput), a batch at most, unless another goroutine
// is doing so: call it without holding a lock that a middleware or such
// an epic takes.
func (s *Store[S]) Dispatch(a actions.Action) error {
	if s.stopped.Load() {
		return ErrStopped
	}
	if !s.built.Load() {
		if err := s.awaitChain(); err != nil {
			return err
		}
	}
	err := s.dispatch(a)
	s.drain(drainBatch)
	return err
}

// awaitChain returns once New has built the middleware chain, or
// ErrBuilding when New is building it on this very goroutine: waiting
// would wait for itself.
func (s *Store[S]) awaitChain() error {
	if onBuildingStack() {
		return ErrBuilding
	}
	<-s.builtCh
	if s.stopped.Load() {
		return ErrStopped
	}
	return nil
}

func (s *Store[S]) reduce(a actions.Action) (err error) {
	if a.Type == "" {
		return ErrNoType
	}
	if s.inHook() {
		return ErrInHook
	}
	s.mu.Lock()
	defer func() {
		if r := recover(); r != nil { // the reducer's: nothing else here panics
			err = s.reducerPanicked(a, r)
		}
		s.mu.Unlock()
	}()
	if s.stopped.Load() {
		return ErrStopped
	}
	if a.Meta.Time.IsZero() {
		a.Meta.Time = s.clock.now()
	}
	a.Meta.Seq = s.seq + 1 // reducers may key decisions on it
	if s.pending != nil && actions.Init.Is(a) {
		s.registerPending(s.state.boxed())
	}
	prev := s.state.latest()
	s.commit(a, prev, s.reducer(prev, a), false)
	return nil
}

// reducerPanicked logs the reducer's panic r on a and returns the error
// for the dispatcher; nothing was committed.
func (s *Store[S]) reducerPanicked(a actions.Action, r any) error {
	s.log.Error("store: reducer panicked", "type", a.Type, "seq", a.Meta.Seq,
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if err, ok := r.(error); ok {
		return fmt.Errorf("%w on %q: %w", ErrReducerPanicked, a.Type, err)
	}
	return fmt.Errorf("%w on %q: %v", ErrReducerPanicked, a.Type, r)
}

// commit publishes a new state; s.mu is held and a.Meta.Seq is s.seq+1.
// The state streams get next only when it is a new state: always, or
// not the same as prev.
func (s *Store[S]) commit(a actions.Action, prev, next S, always bool) {
	s.seq = a.Meta.Seq
	s.state.store(next)
	if len(s.hooks) > 0 {
		s.runHooks(a)
	}
	for _, sub := range s.subs {
		sub.offer(Change[S]{Action: a, State: next})
	}
	s.directs.pushLocked(a)
	if s.actionHub.active() {
		publish(s.actionHub, rxgo.Of(a))
	}
	hub := s.stateHub.active()
	if !hub && len(s.selects) == 0 {
		return // nobody watches the state: no comparison
	}
	// The state stream needs the comparison at every commit; the
	// selections only when one of their values changed: a function may
	// give a new value for the same state (a new pointer each call), and
	// a state that did not change emits nothing. Most commits change no
	// selection's value, and then the states (a few hundred bytes) are
	// not compared for them.
	changed := always || s.same == nil || (hub && !s.same(prev, next))
	if hub && changed {
		publish(s.stateHub, rxgo.Item{V: s.state.boxed()})
	}
	if changed || !hub {
		want := false
		for _, sel := range s.selects {
			if sel.offer(s.state.latestRef()) { // next, without making it escape
				want = true
			}
		}
		if want {
			push := changed || !s.same(prev, next)
			for _, sel := range s.selects {
				sel.settle(push)
			}
		}
	}
}

// registerPending puts Start's mailboxes on their hubs, just before
// actions.Init is reduced: Init is the first action in them, and the
// state before it the first state. s.mu is held.
func (s *Store[S]) registerPending(prev any) {
	first := &rxgo.Item{V: prev}
	for _, b := range s.pending {
		b.actions.register(nil)
		b.states.register(first)
	}
	s.pending = nil
}

// Replace sets the state outright, as DevTools time travel does. The
// reducer is called with state as prev and an actions.Replaced action
// whose payload holds the state before: a reducer that does not know the
// action returns state, and a slice that mirrors the world outside keeps
// what a jump cannot undo. Subscribers and epics see the action, and the
// state streams the new state, even when it is the same as before.
func (s *Store[S]) Replace(state S, source string) error {
	err := s.replace(state, source)
	s.drain(drainBatch)
	return err
}

func (s *Store[S]) replace(state S, source string) (err error) {
	a := actions.Replaced.New(actions.ReplacedPayload{}).WithSource(source)
	if s.inHook() {
		return ErrInHook
	}
	s.mu.Lock()
	defer func() {
		if r := recover(); r != nil {
			err = s.reducerPanicked(a, r)
		}
		s.mu.Unlock()
	}()
	if s.stopped.Load() {
		return ErrStopped
	}
	a.Payload = actions.ReplacedPayload{Prev: s.state.boxed()}
	a.Meta.Time = s.clock.now()
	a.Meta.Seq = s.seq + 1
	s.commit(a, s.state.latest(), s.reducer(state, a), true)
	return nil
}

// ReplaceReducer swaps the store's reducer for r, as Redux's
// replaceReducer does (code splitting, hot reloading): under the store's
// lock it reduces actions.ReducerReplaced through r at once, from the
// current state, so r can fill in what it adds; subscribers and epics
// see that action, and every later action goes through r. It returns an
// error for a nil r, ErrStopped after Stop, and ErrReducerPanicked
// (with the old reducer kept) when r panics on the action.
func (s *Store[S]) ReplaceReducer(r Reducer[S]) error {
	if r == nil {
		return errors.New("store: ReplaceReducer with a nil reducer")
	}
	err := s.replaceReducer(r)
	s.drain(drainBatch)
	return err
}

func (s *Store[S]) replaceReducer(r Reducer[S]) (err error) {
	a := actions.ReducerReplaced.New(actions.Empty{}).WithSource("store")
	if s.inHook() {
		return ErrInHook
	}
	s.mu.Lock()
	defer func() {
		if p := recover(); p != nil {
			err = s.reducerPanicked(a, p)
		}
		s.mu.Unlock()
	}()
	if s.stopped.Load() {
		return ErrStopped
	}
	a.Meta.Time = s.clock.now()
	a.Meta.Seq = s.seq + 1
	prev := s.state.latest()
	next := r(prev, a)
	s.reducer = r
	s.commit(a, prev, next, false)
	return nil
}

// Start dispatches actions.Init, then runs the epics until ctx ends or
// Stop is called. Start itself does not block: it returns once every
// epic is running. Init is the first action every epic sees, and the
// first that Start reduces: an epic that emits at once is reduced after
// it.
//
// When the middleware refuses Init (returns an error), Start stops the
// store, as Stop does, and returns that error: no epic runs.
func (s *Store[S]) Start(ctx context.Context) error {
	if s.inHook() {
		return ErrInHook
	}
	s.stopMu.Lock()
	if s.stopped.Load() {
		s.stopMu.Unlock()
		return ErrStopped
	}
	if !s.started.CompareAndSwap(false, true) {
		s.stopMu.Unlock()
		return ErrStarted
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1) // held while launching: Stop waits for what Start starts
	s.stopMu.Unlock()
	defer s.wg.Done()

	// The mailboxes go on their hubs when Init is reduced (reduce), so
	// that Init is the first action in them whatever else is dispatched
	// meanwhile.
	boxes := make([]epicBoxes, len(s.epics))
	for i := range boxes {
		boxes[i] = epicBoxes{actions: newMailbox(s.actionHub), states: newMailbox(s.stateHub)}
	}
	s.mu.Lock()
	s.pending = boxes
	s.mu.Unlock()
	err := s.Dispatch(actions.Init.New(actions.Empty{}))
	s.mu.Lock()
	if s.pending != nil && err == nil {
		// A middleware swallowed Init: the epics start from here.
		s.registerPending(s.state.boxed())
	}
	s.pending = nil
	s.mu.Unlock()
	if err != nil {
		for _, b := range boxes {
			b.drop()
		}
		s.beginStop()
		if errors.Is(err, ErrStopped) {
			return ErrStopped
		}
		return fmt.Errorf("store: start: %w", err)
	}

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		s.beginStop()
	}()
	go s.runDrainer()
	for i, e := range s.epics {
		s.runEpic(ctx, e, boxes[i])
	}
	return nil
}

func (s *Store[S]) runEpic(ctx context.Context, e namedEpic[S], boxes epicBoxes) {
	ctx, ecancel := context.WithCancel(ctx)
	ss := &stateStream[S]{store: s, ctx: ctx, box: boxes.states}
	ss.building.Store(true)
	input := s.actionSource(ctx, boxes.actions)
	out, err := s.callEpic(ctx, e, input, ss)
	ss.building.Store(false)
	// Only state streams Observed while the epic was built may claim the
	// state mailbox; an epic that made none does not read states from
	// the start, and they are not queued for it.
	boxes.states.settle()
	if err != nil {
		ecancel()
		boxes.drop()
		s.epicFailed(e.name, err)
		return
	}
	o := &output[S]{store: s, ctx: ctx, cancel: ecancel, name: e.name, source: "epic/" + e.name}
	if d, ok := out.(DirectOutput); ok {
		d.Direct(o.emit)
		if d, ok := d.(DirectActions); ok {
			d.DirectActions(o.emitAction)
		}
	}
	var direct *directEpic
	if d, ok := out.(DirectInput); ok {
		take := d.Input()
		if take != nil {
			direct = s.addDirect(e.name, take, func(err error) { o.emit(rxgo.Error(err)) }, boxes.actions)
		}
		// The input holds the mailbox until addDirect claims it: an epic
		// that takes its actions directly may have let its input go, and
		// a garbage collection before the claim would drop the mailbox.
		runtime.KeepAlive(input)
		if direct == nil {
			ecancel()
			boxes.drop()
			switch {
			case take == nil:
				s.epicFailed(e.name, fmt.Errorf("store: epic %q returned a nil Input", e.name))
			case !s.stopped.Load():
				s.epicFailed(e.name, fmt.Errorf("store: epic %q lost its actions before it could take them", e.name))
			}
			return
		}
	}
	ch := out.Observe(rxgo.WithContext(ctx))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer boxes.drop() // a finished or failed epic stops queueing its input
		if direct != nil {
			defer s.removeDirect(direct)
		}
		defer ecancel()
		for {
			var item rxgo.Item
			var ok bool
			select {
			case item, ok = <-ch: // ready: no need to lock ctx's channel
			default:
				select {
				case item, ok = <-ch:
				case <-ctx.Done():
					return
				}
			}
			if !ok || !o.emit(item) {
				return
			}
		}
	}()
}

// DirectOutput is an epic output that hands its actions to the store on
// the goroutine that makes them, instead of sending them on its channel
// for the store's goroutine to dispatch: one goroutine switch less per
// action, for an epic whose actions come from effects that run on
// goroutines of their own (epics.Effect is one).
//
// The store calls Direct once, after Start has reduced actions.Init and
// before it observes the output. emit dispatches one item exactly as if
// it had come on the output's channel (Meta.Source "epic/<name>"; an
// error item or a value that is not an action fails the epic) and reports
// whether the epic goes on: false once it failed, its context ended or
// the store stopped. emit is safe from any goroutine and returns once the
// action is reduced; items emitted concurrently are reduced in the order
// the store's lock admits them, and are not ordered with the items sent
// on the channel. An epic that gets false should end its output.
type DirectOutput interface {
	rxgo.Observable
	Direct(emit func(rxgo.Item) bool)
}

// DirectActions is a DirectOutput that also hands over bare actions,
// which saves boxing each into an item: the store calls DirectActions
// right after Direct, and emitAction(a) is emit(rxgo.Of(a)).
type DirectActions interface {
	DirectOutput
	DirectActions(emitAction func(actions.Action) bool)
}

// output dispatches what an epic emits, from its channel or directly.
type output[S any] struct {
	store  *Store[S]
	ctx    context.Context
	cancel context.CancelFunc
	name   string
	source string      // Meta.Source of its actions
	over   atomic.Bool // the epic ended: emit refuses
	failed atomic.Bool // the epic's failure was reported
}

// emit dispatches one item of the epic's output and reports whether the
// epic goes on; when it does not, the epic's context is cancelled.
func (o *output[S]) emit(item rxgo.Item) bool {
	if o.over.Load() {
		return false
	}
	return o.goesOn(o.dispatch(item))
}

// emitAction is emit for a bare action (DirectActions).
func (o *output[S]) emitAction(a actions.Action) bool {
	if o.over.Load() {
		return false
	}
	return o.goesOn(o.dispatchAction(a))
}

// goesOn ends the epic's output unless ok.
func (o *output[S]) goesOn(ok bool) bool {
	if ok {
		return true
	}
	o.over.Store(true)
	o.cancel()
	return false
}

func (o *output[S]) dispatch(item rxgo.Item) bool {
	s := o.store
	if item.E != nil {
		if o.ctx.Err() == nil && !o.failed.Swap(true) {
			s.epicFailed(o.name, item.E)
		}
		return false
	}
	a, isAction := item.V.(actions.Action)
	if !isAction {
		if !o.failed.Swap(true) {
			s.epicFailed(o.name, fmt.Errorf("store: epic %q emitted %T, want actions.Action", o.name, item.V))
		}
		return false
	}
	return o.dispatchAction(a)
}

func (o *output[S]) dispatchAction(a actions.Action) bool {
	s := o.store
	if a.Meta.Source == "" {
		a.Meta.Source = o.source
	}
	if err := s.Dispatch(a); err != nil {
		switch {
		case errors.Is(err, ErrStopped):
			return false
		case errors.Is(err, ErrReducerPanicked):
			// Not the epic's fault: report it and go on.
			s.epicFailed(o.name, err)
		default:
			s.log.Warn("store: epic action refused", "epic", o.name, "type", a.Type, "err", err)
		}
	}
	return o.ctx.Err() == nil
}

// actionSource is an epic's input: its first subscription claims box.
func (s *Store[S]) actionSource(ctx context.Context, box *mailbox) rxgo.Observable {
	src := &source{hub: s.actionHub, done: s.done, fresh: s.freshActions}
	if box.hold(src) {
		src.box = box
	}
	return src.observable(rxgo.WithContext(ctx), rxgo.WithBufferedChannel(epicBuffer))
}

// freshActions is the inlet of a hot subscription to actions.
func (s *Store[S]) freshActions() *inlet {
	in := newInlet()
	s.actionHub.add(in)
	return in
}

// freshStates is the inlet of a hot subscription to states: the current
// state, then every new one. Taking the lock orders it with commit.
func (s *Store[S]) freshStates() *inlet {
	in := newInlet()
	s.mu.Lock()
	defer s.mu.Unlock()
	in.push(rxgo.Item{V: s.state.boxed()})
	s.stateHub.add(in)
	return in
}

func (s *Store[S]) callEpic(ctx context.Context, e namedEpic[S], in rxgo.Observable, ss *stateStream[S]) (out rxgo.Observable, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: epic %q panicked: %v", e.name, r)
		}
	}()
	out = e.fn(ctx, in, ss)
	if out == nil {
		return nil, fmt.Errorf("store: epic %q returned a nil Observable", e.name)
	}
	return out, nil
}

func (s *Store[S]) epicFailed(name string, err error) {
	s.log.Error("store: epic failed", "epic", name, "err", err)
	a := actions.EpicFailed.New(actions.EpicFailedPayload{Epic: name, Error: err.Error()}).WithSource("store")
	if derr := s.Dispatch(a); derr != nil && !errors.Is(derr, ErrStopped) {
		s.log.Error("store: cannot report epic failure", "epic", name, "err", derr)
	}
}

// beginStop refuses further dispatches and wakes every epic input.
func (s *Store[S]) beginStop() {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped.Load() {
		return
	}
	s.mu.Lock()
	s.stopped.Store(true)
	close(s.done)
	for _, sub := range s.subs {
		sub.closeLocked()
	}
	s.subs = nil
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}

// Stop stops the epics, waits for the store's goroutines to end, and closes
// every subscription. Later dispatches return ErrStopped. Stop is safe to
// call more than once, concurrently with Start, and on a store that was
// never started.
//
// Because it waits, Stop must not be called on the store's own goroutines:
// inside an epic function, or in middleware reached by an epic's dispatch,
// it would wait for itself. There, cancel the context given to Start: the
// store then stops the same way without waiting.
func (s *Store[S]) Stop() {
	if s.inHook() {
		// The hook runs under the lock that stopping takes: stop once it
		// has returned, without waiting here.
		go s.Stop()
		return
	}
	s.beginStop()
	s.wg.Wait()
}

// Done is closed when the store begins to stop.
func (s *Store[S]) Done() <-chan struct{} { return s.done }

type stateStream[S any] struct {
	store    *Store[S]
	ctx      context.Context
	box      *mailbox    // claimable by the Observables made while building
	building atomic.Bool // the epic function is running
}

func (ss *stateStream[S]) Value() S { return ss.store.State() }

func (ss *stateStream[S]) Observe() rxgo.Observable {
	src := &source{hub: ss.store.stateHub, done: ss.store.done, fresh: ss.store.freshStates}
	if ss.building.Load() && ss.box.hold(src) {
		src.box = ss.box
	}
	return src.observable(rxgo.WithContext(ss.ctx), rxgo.WithBufferedChannel(epicBuffer))
}
