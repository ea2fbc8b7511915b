package epics

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/actions"
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
	run  []func(ctx context.Context, done func(...actions.Action))
}

// Emit asks for actions to be emitted at once, in order.
func (fx *Effects) Emit(a ...actions.Action) { fx.emit = append(fx.emit, a...) }

// Run starts f on its own goroutine. f calls done with its result actions
// once (later calls are ignored); done may also be called from a timer,
// so that an effect stuck in a call that ignores its context still
// reports in time. ctx ends when the store stops or when done was called.
func (fx *Effects) Run(f func(ctx context.Context, done func(...actions.Action))) {
	fx.run = append(fx.run, f)
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
		out := &effectOutput{}
		out.Observable = rxgo.Defer([]rxgo.Producer{func(pctx context.Context, next chan<- rxgo.Item) {
			ctx, cancel := context.WithCancel(ctx)
			r := &runner{ctx: ctx, next: next, direct: out.emit}
			// rxgo closes next when this producer returns: effects that
			// report later must find the output closed, not send on it.
			defer r.close(cancel)
			items := in.Observe(rxgo.WithContext(ctx))
			var fx Effects
			for {
				var it rxgo.Item
				var ok bool
				select {
				case it, ok = <-items:
				case <-ctx.Done():
					return
				case <-pctx.Done():
					return
				}
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
				s := get(state.Value())
				fx = Effects{emit: fx.emit[:0], run: fx.run[:0]}
				for _, h := range handlers {
					h(a, s, &fx)
				}
				if !r.emit(fx.emit) {
					return
				}
				for _, e := range fx.run {
					r.start(e)
				}
			}
		}}, rxgo.WithContext(ctx))
		return out
	}
}

// effectOutput is the Effect epic's output: the store may take its
// actions directly (store.DirectOutput), on the goroutine of the effect
// that reports them, so that a result reaches the reducer without a
// goroutine switch.
type effectOutput struct {
	rxgo.Observable
	emit func(rxgo.Item) bool // set by the store before it observes
}

// Direct implements store.DirectOutput.
func (o *effectOutput) Direct(emit func(rxgo.Item) bool) { o.emit = emit }

// runner runs effects. An effect hands its result actions straight to the
// epic's output, from its own goroutine: the loop that reads actions is
// not a step on the way.
type runner struct {
	ctx    context.Context
	next   chan<- rxgo.Item
	direct func(rxgo.Item) bool // the store's, or nil: send on next

	out    sync.RWMutex // held for reading while sending on next
	closed bool         // next is closed, or about to be

	mu   sync.Mutex
	idle []chan *job // goroutines waiting for an effect, last idle last
}

func (r *runner) send(it rxgo.Item) bool {
	r.out.RLock()
	defer r.out.RUnlock()
	if r.closed {
		return false
	}
	if r.direct != nil {
		return r.direct(it)
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
		if !r.send(rxgo.Of(a)) {
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

// job is one effect under way.
type job struct {
	r      *runner
	f      func(ctx context.Context, done func(...actions.Action))
	ctx    context.Context
	cancel context.CancelFunc
	fired  atomic.Bool
}

// done reports the effect's result actions, once.
func (j *job) done(as ...actions.Action) {
	if j.fired.Swap(true) {
		return
	}
	j.r.emit(as)
	j.cancel()
}

func (j *job) run() {
	defer j.done() // an effect that forgot to report still reports nothing, once
	j.f(j.ctx, j.done)
}

// start runs f on an idle goroutine of the runner, or on a new one.
func (r *runner) start(f func(ctx context.Context, done func(...actions.Action))) {
	j := &job{r: r, f: f}
	j.ctx, j.cancel = context.WithCancel(r.ctx)
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
