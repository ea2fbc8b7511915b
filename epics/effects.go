package epics

import (
	"context"
	"sync"

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
		return rxgo.Defer([]rxgo.Producer{func(pctx context.Context, next chan<- rxgo.Item) {
			ctx, cancel := context.WithCancel(ctx)
			r := &runner{ctx: ctx, next: next}
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
	}
}

// runner runs effects. An effect hands its result actions straight to the
// epic's output, from its own goroutine: the loop that reads actions is
// not a step on the way.
type runner struct {
	ctx  context.Context
	next chan<- rxgo.Item

	out    sync.RWMutex // held for reading while sending on next
	closed bool         // next is closed, or about to be
}

func (r *runner) send(it rxgo.Item) bool {
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
		if !r.send(rxgo.Of(a)) {
			return false
		}
	}
	return true
}

func (r *runner) start(f func(ctx context.Context, done func(...actions.Action))) {
	ctx, cancel := context.WithCancel(r.ctx)
	var once sync.Once
	done := func(as ...actions.Action) {
		once.Do(func() {
			r.emit(as)
			cancel()
		})
	}
	go func() {
		defer done() // an effect that forgot to report still reports nothing, once
		f(ctx, done)
	}()
}
