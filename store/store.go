package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// Errors returned by a Store.
var (
	// ErrStopped is returned by Dispatch after the store has stopped.
	ErrStopped = errors.New("store: stopped")
	// ErrStarted is returned by Start on a store that was started before.
	ErrStarted = errors.New("store: already started")
	// ErrNoType is returned by Dispatch for an action without a type.
	ErrNoType = errors.New("store: action has no type")
	// ErrBuilding is returned by Dispatch called from middleware while the
	// store is building the middleware chain.
	ErrBuilding = errors.New("store: dispatch while middleware is being built")
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
type Middleware[S any] func(api API[S]) func(next DispatchFunc) DispatchFunc

// Epic is a redux-observable epic on rxgo: it receives the stream of actions
// (each an actions.Action, after the reducers ran) and the state, and
// returns a stream of actions that the store dispatches. ctx ends when the
// store stops or the epic's output ends; pass rxgo.WithContext(ctx) to the
// operators that take it.
//
// Subscriptions to actions:
//
//   - The first subscription sees every action dispatched since Start, if
//     it is made within a second of Start (rxgo subscribes on goroutines,
//     a moment after the pipeline is built); after that second an epic
//     that has not subscribed is taken not to observe its input, which
//     stops being queued.
//   - Every later subscription is hot, as in RxJS: it sees actions from the
//     moment it subscribes. This includes a second branch built on the same
//     input, as in Merge(in.Filter(isA), in.Filter(isB)): one branch is
//     the first subscription and the other may miss the actions dispatched
//     right after Start. Build an epic on one subscription (one Filter
//     that keeps both types, then route) when it must not miss those.
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
// callbacks that may panic should recover and return an error. Epics
// dispatch with Meta.Source "epic/<name>".
type Epic[S any] func(ctx context.Context, actions rxgo.Observable, state StateStream[S]) rxgo.Observable

// StateStream is an epic's view of the state.
type StateStream[S any] interface {
	// Value returns the latest state. When an epic handles an action, Value
	// already includes that action (and possibly later ones).
	Value() S
	// Observe returns a hot Observable of every state after an action was
	// reduced, in dispatch order, with the same start rule as actions when
	// the epic calls Observe while it builds its pipeline. An epic that
	// does not call it then costs the store nothing for states; one that
	// calls it later (inside an inner pipeline) sees states from then on.
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
	reducer  Reducer[S]
	log      *slog.Logger
	dispatch DispatchFunc

	mu    sync.Mutex // serializes reduce
	clock clock      // stamps Meta.Time; s.mu is held
	state atomic.Pointer[S]
	seq   uint64
	subs  []*Subscription[S]

	actionHub *hub[rxgo.Item]
	stateHub  *hub[rxgo.Item]

	epics []namedEpic[S]
	lifecycle
}

type namedEpic[S any] struct {
	name string
	fn   Epic[S]
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
		actionHub: newHub[rxgo.Item](),
		stateHub:  newHub[rxgo.Item](),
		epics:     cfg.epics,
	}
	s.done = make(chan struct{})
	s.state.Store(&initial)
	// As in Redux, middleware may not dispatch while it is being built.
	s.dispatch = func(actions.Action) error { return ErrBuilding }
	d := s.reduce
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		wrap := cfg.middleware[i](s)
		if wrap == nil {
			return nil, fmt.Errorf("store: middleware %d returned a nil wrapper", i)
		}
		if d = wrap(d); d == nil {
			return nil, fmt.Errorf("store: middleware %d returned a nil dispatch", i)
		}
	}
	s.dispatch = d
	return s, nil
}

// State returns the latest state without locking.
func (s *Store[S]) State() S { return *s.state.Load() }

// Seq returns the number of actions reduced so far.
func (s *Store[S]) Seq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Dispatch sends a through the middleware chain to the reducer. It returns
// ErrStopped after Stop, and never blocks on subscribers or epics.
func (s *Store[S]) Dispatch(a actions.Action) error {
	if s.stopped.Load() {
		return ErrStopped
	}
	return s.dispatch(a)
}

func (s *Store[S]) reduce(a actions.Action) error {
	if a.Type == "" {
		return ErrNoType
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return ErrStopped
	}
	if a.Meta.Time.IsZero() {
		a.Meta.Time = s.clock.now()
	}
	a.Meta.Seq = s.seq + 1 // reducers may key decisions on it
	next := s.reducer(*s.state.Load(), a)
	s.commit(a, next)
	return nil
}

// commit publishes a new state; s.mu is held and a.Meta.Seq is s.seq+1.
func (s *Store[S]) commit(a actions.Action, next S) {
	s.seq = a.Meta.Seq
	s.state.Store(&next)
	for _, sub := range s.subs {
		sub.offer(Change[S]{Action: a, State: next})
	}
	if s.actionHub.active() {
		s.actionHub.publish(rxgo.Of(a))
	}
	if s.stateHub.active() {
		s.stateHub.publish(rxgo.Of(next))
	}
}

// Replace sets the state outright, as DevTools time travel does. The
// reducer is called with state as prev and an actions.Replaced action
// whose payload holds the state before: a reducer that does not know the
// action returns state, and a slice that mirrors the world outside keeps
// what a jump cannot undo. Subscribers and epics see the action.
func (s *Store[S]) Replace(state S, source string) error {
	a := actions.Replaced.New(actions.ReplacedPayload{}).WithSource(source)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return ErrStopped
	}
	a.Payload = actions.ReplacedPayload{Prev: *s.state.Load()}
	a.Meta.Time = s.clock.now()
	a.Meta.Seq = s.seq + 1
	s.commit(a, s.reducer(state, a))
	return nil
}

// Start runs the epics until ctx ends or Stop is called, then returns.
// Start itself does not block: it returns once every epic is running.
// Actions dispatched after Start returns reach every epic's first
// subscription. Start dispatches actions.Init.
func (s *Store[S]) Start(ctx context.Context) error {
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
	// The primary mailboxes are registered under the store lock, so the
	// first action after Start is in every one of them.
	s.mu.Lock()
	srcs := make([]*source, len(s.epics))
	stateSrcs := make([]*source, len(s.epics))
	for i := range s.epics {
		srcs[i] = newSource(s.actionHub, s.done)
		stateSrcs[i] = newSource(s.stateHub, s.done)
	}
	s.mu.Unlock()

	for i, e := range s.epics {
		ss := &stateStream[S]{store: s, src: stateSrcs[i]}
		s.runEpic(ctx, e, srcs[i], ss)
	}
	// Sources that no subscription claimed within a second of Start belong
	// to epics that never observe them: stop queueing for them.
	release := time.AfterFunc(time.Second, func() {
		for i := range srcs {
			srcs[i].release()
			stateSrcs[i].release()
		}
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		release.Stop()
		s.beginStop()
	}()
	return s.Dispatch(actions.Init.New(actions.Empty{}))
}

func (s *Store[S]) runEpic(ctx context.Context, e namedEpic[S], src *source, ss *stateStream[S]) {
	ctx, ecancel := context.WithCancel(ctx)
	ss.ctx = ctx
	out, err := s.callEpic(ctx, e, src, ss)
	if !ss.observed.Load() {
		// The epic built its pipeline without the state stream: stop
		// queueing states for it now rather than a second after Start.
		ss.src.release()
	}
	if err != nil {
		ecancel()
		s.epicFailed(e.name, err)
		return
	}
	ch := out.Observe(rxgo.WithContext(ctx))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer ecancel() // a finished or failed epic stops queueing its input
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
			if !ok {
				return
			}
			if item.E != nil {
				if ctx.Err() == nil {
					s.epicFailed(e.name, item.E)
				}
				return
			}
			a, isAction := item.V.(actions.Action)
			if !isAction {
				s.epicFailed(e.name, fmt.Errorf("store: epic %q emitted %T, want actions.Action", e.name, item.V))
				return
			}
			if a.Meta.Source == "" {
				a.Meta.Source = "epic/" + e.name
			}
			if err := s.Dispatch(a); err != nil {
				if errors.Is(err, ErrStopped) {
					return
				}
				s.log.Warn("store: epic action refused", "epic", e.name, "type", a.Type, "err", err)
			}
		}
	}()
}

func (s *Store[S]) callEpic(ctx context.Context, e namedEpic[S], src *source, ss *stateStream[S]) (out rxgo.Observable, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: epic %q panicked: %v", e.name, r)
		}
	}()
	out = e.fn(ctx, src.observable(rxgo.WithContext(ctx), rxgo.WithBufferedChannel(epicBuffer)), ss)
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
	s.beginStop()
	s.wg.Wait()
}

// Done is closed when the store begins to stop.
func (s *Store[S]) Done() <-chan struct{} { return s.done }

type stateStream[S any] struct {
	store    *Store[S]
	src      *source
	observed atomic.Bool // Observe was called
	ctx      context.Context
}

func (ss *stateStream[S]) Value() S { return ss.store.State() }

func (ss *stateStream[S]) Observe() rxgo.Observable {
	ss.observed.Store(true)
	return ss.src.observable(rxgo.WithContext(ss.ctx), rxgo.WithBufferedChannel(epicBuffer))
}
