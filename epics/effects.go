package epics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/internal/lazyctx"
	"github.com/hawechaty/hawechaty/internal/recv"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// A Handler reads one action, with the pool's state after it, and asks
// for the effects that the reducer's decision in that action calls for.
// It is a plain function: it reads the state and fx, and performs
// nothing itself.
//
// The state may already include later actions (the epic runs behind the
// store). A handler therefore acts only on decisions marked with the
// action's own Meta.Seq (reducers.Bot's DingBy, ResetBy, RoomsBy, FlipBy;
// reducers.Send's RoutedBy): such a decision is acted on once, by the
// action that made it, and never again after a replay or a jump in time.
type Handler func(a actions.Action, s reducers.Pool, fx *Effects)

// Effects collects what handlers ask for while one action is handled.
type Effects struct {
	emit []actions.Action
	run  []effect
}

// effect is one Run or RunNow.
type effect struct {
	now NowEffect // RunNow's, or nil
	f   func(ctx context.Context, done func(...actions.Action))
}

// A NowEffect is an effect that can often answer at once (RunNow), such
// as a send through a puppet.TrySayer.
type NowEffect interface {
	// Try answers at once with the effect's result action and done
	// true, or does nothing and reports false when it would have to
	// wait. It must never wait: it holds up every action after this one.
	Try() (result actions.Action, done bool)
	// Run is the effect when Try did not answer, as Effects.Run runs it.
	Run(ctx context.Context, done func(...actions.Action))
}

// Emit asks for actions to be emitted at once, in order.
func (fx *Effects) Emit(a ...actions.Action) { fx.emit = append(fx.emit, a...) }

// Run starts f on its own goroutine. f calls done with its result actions
// once (later calls are ignored); done may also be called from a timer,
// so that an effect stuck in a call that ignores its context still
// reports in time. ctx ends when the store stops or when done was called.
// f must not be nil. An f that panics fails the epic, as a handler that
// panics does.
func (fx *Effects) Run(f func(ctx context.Context, done func(...actions.Action))) {
	if f == nil {
		panic("epics: Effects.Run with a nil effect") // in a handler: the epic fails
	}
	fx.run = append(fx.run, effect{f: f})
}

// RunNow is Run for an effect that can often answer at once: its Try
// runs on the goroutine that handles the action, once the handlers are
// done and their actions emitted. When Try answers, its result action is
// emitted as Run's would be; when it would have to wait, e.Run runs as
// Run runs it. e must not be nil; a Try or a Run that panics fails the
// epic.
func (fx *Effects) RunNow(e NowEffect) {
	if e == nil {
		panic("epics: Effects.RunNow with a nil effect") // in a handler: the epic fails
	}
	fx.run = append(fx.run, effect{now: e})
}

// Effect combines handlers into one epic: it reads each action once, asks
// every handler, emits what they emit, and runs their effects
// concurrently, emitting each effect's result actions when it reports:
// redux-observable's mergeMap from an action to its effects. The handlers share
// one subscription to the actions, which is what keeps an action cheap
// for the store whatever the number of concerns. get finds the pool in
// the store's state.
//
// The epic holds nothing but the effects under way: each runs exactly
// while the decision that started it has not been answered.
func Effect[S any](get func(S) reducers.Pool, handlers ...Handler) store.Epic[S] {
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[S]) rxgo.Observable {
		if get == nil {
			return rxgo.Thrown(errors.New("epics: Effect with a nil get"))
		}
		if i := slices.IndexFunc(handlers, func(h Handler) bool { return h == nil }); i >= 0 {
			return rxgo.Thrown(fmt.Errorf("epics: Effect with a nil handler (%d)", i))
		}
		e := &effectEpic[S]{ctx: ctx, in: in, state: state, get: get, handlers: handlers}
		e.Observable = rxgo.Defer([]rxgo.Producer{e.produce}, rxgo.WithContext(ctx))
		return e
	}
}

// effectEpic is the Effect epic. In a store it takes its actions directly
// (store.DirectInput: the handlers run on the dispatching goroutine, as
// redux-observable runs epics) and hands its actions back directly
// (store.DirectOutput: an effect's result is reduced on the effect's
// goroutine), so that an action and its effects cost no goroutine
// switch. Elsewhere (an epic test that observes its output) it reads
// its input Observable and emits on its output.
type effectEpic[S any] struct {
	rxgo.Observable
	ctx      context.Context
	in       rxgo.Observable
	state    store.StateStream[S]
	get      func(S) reducers.Pool
	handlers []Handler

	emit   func(rxgo.Item) bool      // the store's, set by Direct before it observes
	emitA  func(actions.Action) bool // the store's, set by DirectActions
	direct *runner                   // set by Input: the store hands the actions over
	fx     Effects                   // take's, reused: take is never called concurrently
}

// Direct implements store.DirectOutput.
func (e *effectEpic[S]) Direct(emit func(rxgo.Item) bool) { e.emit = emit }

// DirectActions implements store.DirectActions.
func (e *effectEpic[S]) DirectActions(emit func(actions.Action) bool) { e.emitA = emit }

// Input implements store.DirectInput.
func (e *effectEpic[S]) Input() func(actions.Action) {
	ctx, cancel := context.WithCancel(e.ctx)
	r := &runner{ctx: ctx, direct: e.emit, directA: e.emitA}
	context.AfterFunc(ctx, func() { r.close(cancel) })
	e.direct = r
	return e.take
}

// take handles one action the store handed over. A handler that panics
// fails the epic, as an error on its output would.
func (e *effectEpic[S]) take(a actions.Action) {
	if e.direct.ctx.Err() != nil {
		return
	}
	if _, err := e.handle(e.direct, a, &e.fx); err != nil {
		e.emit(rxgo.Error(err))
	}
}

// handle asks every handler about a and does what they ask for. It
// reports false when the output is closed, and an error when a handler
// (or get) panicked, and then nothing they asked for is done, or when a
// RunNow's try panicked, and then the effects after it are not done.
func (e *effectEpic[S]) handle(r *runner, a actions.Action, fx *Effects) (ok bool, err error) {
	*fx = Effects{emit: fx.emit[:0], run: fx.run[:0]}
	if err := e.ask(a, fx); err != nil {
		clear(fx.emit)
		clear(fx.run)
		return false, err
	}
	ok = r.emit(fx.emit)
	for _, e := range fx.run {
		if !ok {
			break
		}
		if e.now != nil {
			res, done, perr := tryNow(e.now)
			if perr != nil {
				err = perr
				break
			}
			if done {
				ok = r.sendAction(res)
				continue
			}
		}
		if e.now != nil {
			r.start(e.now.Run)
			continue
		}
		r.start(e.f)
	}
	clear(fx.emit)
	clear(fx.run)
	return ok, err
}

// tryNow runs a RunNow's Try, recovering a panic as an error.
func tryNow(e NowEffect) (res actions.Action, done bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("epics: an effect's try panicked: %v", p)
		}
	}()
	res, done = e.Try()
	return res, done, nil
}

// ask runs the handlers on a, recovering a panic as an error.
func (e *effectEpic[S]) ask(a actions.Action, fx *Effects) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("epics: a handler panicked on %q: %v", a.Type, p)
		}
	}()
	s := e.get(e.state.Value())
	for _, h := range e.handlers {
		h(a, s, fx)
	}
	return nil
}

func (e *effectEpic[S]) produce(pctx context.Context, next chan<- rxgo.Item) {
	if r := e.direct; r != nil {
		// The store hands the actions over; the output carries nothing.
		select {
		case <-r.ctx.Done():
		case <-pctx.Done():
		}
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	r := &runner{ctx: ctx, next: next, direct: e.emit, directA: e.emitA}
	// rxgo closes next when this producer returns: effects that report
	// later must find the output closed, not send on it.
	defer r.close(cancel)
	items := e.in.Observe(rxgo.WithContext(ctx))
	var fx Effects
	for {
		it, ok := recv.Next(ctx, pctx, items)
		if !ok {
			return
		}
		if it.E != nil {
			r.send(rxgo.Error(it.E))
			return
		}
		a, isAction := it.V.(actions.Action)
		if !isAction {
			continue
		}
		ok, err := e.handle(r, a, &fx)
		if err != nil {
			r.send(rxgo.Error(err))
			return
		}
		if !ok {
			return
		}
	}
}

// runner runs effects. An effect hands its result actions straight to the
// epic's output, from its own goroutine: the loop that reads actions is
// not a step on the way.
type runner struct {
	ctx     context.Context
	next    chan<- rxgo.Item
	direct  func(rxgo.Item) bool      // the store's, or nil: send on next
	directA func(actions.Action) bool // the store's for bare actions, or nil

	out    sync.RWMutex // held for reading while sending on next
	closed bool         // next is closed, or about to be

	mu   sync.Mutex
	idle []chan *job // goroutines waiting for an effect, last idle last
}

// open reports whether the runner still sends. The store's emit is
// called after it, without the lock: emit refuses items once the epic is
// over, and may take direct actions, whose handlers send again, and the
// lock must not be held twice by one goroutine (a writer waiting between
// would deadlock both).
func (r *runner) open() bool {
	r.out.RLock()
	defer r.out.RUnlock()
	return !r.closed
}

// sendAction is send(rxgo.Of(a)), without the item when the store takes
// bare actions (store.DirectActions).
func (r *runner) sendAction(a actions.Action) bool {
	if r.directA == nil {
		return r.send(rxgo.Of(a))
	}
	return r.open() && r.directA(a)
}

func (r *runner) send(it rxgo.Item) bool {
	if r.direct != nil {
		return r.open() && r.direct(it)
	}
	r.out.RLock()
	defer r.out.RUnlock()
	if r.closed {
		return false
	}
	select {
	case r.next <- it:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// close ends the runner's context, which releases the sends under way,
// then waits for them and refuses the later ones.
func (r *runner) close(cancel context.CancelFunc) {
	cancel()
	r.out.Lock()
	r.closed = true
	r.out.Unlock()
}

func (r *runner) emit(as []actions.Action) bool {
	for _, a := range as {
		if !r.sendAction(a) {
			return false
		}
	}
	return true
}

// maxIdle is how many idle goroutines a runner keeps for its next
// effects. An effect runs on a goroutine that ran effects before when
// one is idle: its stack has grown already to what reporting a result
// takes (the store reduces the result on it), which a new goroutine
// would grow again, copying, on every effect.
const maxIdle = 32

// job is one effect under way. Its context is made for the job and
// cancelled when the job reports; it registers with the runner's only if
// the effect asks for its Done channel (lazyctx), which a puppet that
// answers at once never does.
type job struct {
	r     *runner
	f     func(ctx context.Context, done func(...actions.Action))
	ctx   lazyctx.Ctx
	fired atomic.Bool
}

// done reports the effect's result actions, once.
func (j *job) done(as ...actions.Action) {
	if j.fired.Swap(true) {
		return
	}
	j.r.emit(as)
	j.ctx.Cancel()
}

// run runs the effect. One that forgot to report still reports nothing,
// once; one that panics fails the epic, as a handler that panics does,
// instead of ending the program.
func (j *job) run() {
	defer func() {
		if p := recover(); p != nil {
			j.r.send(rxgo.Error(fmt.Errorf("epics: an effect panicked: %v", p)))
		}
		j.done()
	}()
	j.f(&j.ctx, j.done)
}

// start runs f on an idle goroutine of the runner, or on a new one.
func (r *runner) start(f func(ctx context.Context, done func(...actions.Action))) {
	j := &job{r: r, f: f}
	j.ctx.Init(r.ctx, nil)
	r.mu.Lock()
	if n := len(r.idle); n > 0 {
		w := r.idle[n-1]
		r.idle = r.idle[:n-1]
		w <- j // never blocks: the worker's channel is empty, of capacity 1
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	go r.work(j)
}

// work runs j, then the jobs it is handed while idle, until the runner
// ends or enough goroutines are idle already.
func (r *runner) work(j *job) {
	var ch chan *job
	for {
		j.run()
		r.mu.Lock()
		if len(r.idle) >= maxIdle || r.ctx.Err() != nil {
			r.mu.Unlock()
			return
		}
		if ch == nil {
			ch = make(chan *job, 1)
		}
		r.idle = append(r.idle, ch)
		r.mu.Unlock()
		select {
		case j = <-ch:
		case <-r.ctx.Done():
			r.mu.Lock()
			r.idle = slices.DeleteFunc(r.idle, func(c chan *job) bool { return c == ch })
			r.mu.Unlock()
			select {
			case j = <-ch: // handed over before the runner ended: still run
			default:
				return
			}
		}
	}
}
