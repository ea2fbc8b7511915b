package store

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/hawechaty/hawechaty/actions"
)

// WithCommitHook adds h, which the store calls with every action it
// reduces (Meta.Seq and Meta.Time set) and the state that action produced,
// as it commits that state: on the dispatching goroutine, under the
// store's lock, in dispatch order, once State returns the new state and
// before any later action is reduced. So a hook sees each state the store
// holds, in order and with the action that made it. A middleware cannot
// promise that (when its next returns, other goroutines' actions may have
// been reduced), nor can a subscription (a full buffer drops).
//
// s points at the store's own copy of the state: read it during the call;
// never keep the pointer or write through it.
//
// Every dispatch waits while a hook runs: a hook must be quick. It must
// not change the store: Dispatch, Replace, ReplaceReducer and Start
// called from a hook return ErrInHook, and Stop begins stopping once the
// hook has returned, without waiting. State, Seq, Subscribe and a
// subscription's Close work as anywhere. A hook that panics is logged,
// and the store goes on.
//
// The store knows a call comes from its own hook by finding the hook's
// function on the caller's stack. So a hook given to two stores, which
// dispatches from one store's commit into the other while the other's
// commit runs the same function on another goroutine, gets ErrInHook
// where it should have waited: give each store a hook of its own there.
func WithCommitHook[S any](h func(a actions.Action, s *S)) Option[S] {
	return optionFunc[S](func(c *config[S]) {
		if h == nil {
			c.errs = append(c.errs, errors.New("store: WithCommitHook(nil)"))
			return
		}
		c.hooks = append(c.hooks, h)
	})
}

// runHooks calls the commit hooks with a and the state just committed;
// s.mu is held.
func (s *Store[S]) runHooks(a actions.Action) {
	s.hooking.Store(true)
	defer s.hooking.Store(false)
	st := s.state.latestRef()
	for _, h := range s.hooks {
		s.callHook(h, a, st)
	}
}

func (s *Store[S]) callHook(h func(actions.Action, *S), a actions.Action, st *S) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("store: commit hook panicked", "type", a.Type, "seq", a.Meta.Seq,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	h(a, st)
}

// inHook reports whether the calling goroutine is inside one of this
// store's commit hooks: one runs, and one of its functions is on the
// goroutine's stack. (Go has no goroutine identity; a mark common to all
// stores would refuse a hook of another store that dispatches here while
// this store's hook runs on a third goroutine, which only has to wait.)
// It walks the stack only while a hook runs, when the caller is either
// that hook or a dispatcher about to wait for the lock anyway.
func (s *Store[S]) inHook() bool { return s.hooking.Load() && onStack(s.hookNames...) }

// hookNames are the names of hooks' functions, as stack frames show them
// (a method value's wrapper is not in the frames: its method is).
func hookNames[S any](hooks []func(actions.Action, *S)) []string {
	out := make([]string, len(hooks))
	for i, h := range hooks {
		out[i] = strings.TrimSuffix(runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name(), "-fm")
	}
	return out
}
