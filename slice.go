package hawechaty

import (
	"errors"
	"fmt"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// Slice is a pool whose state lives in an application's store, beside the
// application's own state, as a slice mounted with Redux Toolkit's
// configureStore: the application adds its own reducers, epics,
// middleware and selectors to the same store, and one DevTools stream
// shows it all.
//
//	type App struct {
//		Pool   reducers.Pool
//		Counts map[string]int
//	}
//	sl, _ := hawechaty.NewSlice(
//		func(s App) reducers.Pool { return s.Pool },
//		func(s *App, p reducers.Pool) { s.Pool = p })
//	st, _ := store.New(reducers.Combine(sl.Reducer(), reducers.Field(…counts…)), App{},
//		append(sl.StoreOptions(), store.WithEpic("mine", myEpic))...)
//	pool, _ := sl.Bind(st)
//
// Start and Stop of the Pool start and stop the application's store.
type Slice[S any] struct {
	pool *Pool
	get  func(S) reducers.Pool
	set  func(*S, reducers.Pool)
}

// NewSlice returns the pool's slice for a state S: get reads the pool's
// state in S, set writes it into a copy of S. WithStoreOptions does not
// apply: the application builds the store.
func NewSlice[S any](get func(S) reducers.Pool, set func(*S, reducers.Pool), opts ...Option) (*Slice[S], error) {
	if get == nil || set == nil {
		return nil, errors.New("hawechaty: NewSlice with a nil get or set")
	}
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	if len(p.cfg.storeOpts) > 0 {
		return nil, errors.New("hawechaty: WithStoreOptions does not apply to NewSlice: pass the options to store.New")
	}
	return &Slice[S]{pool: p, get: get, set: set}, nil
}

// Reducer is the pool's reducer as a field of S, for reducers.Combine.
func (sl *Slice[S]) Reducer() reducers.Slice[S] {
	return reducers.Field(sl.get, sl.set, sl.pool.cfg.ha.Reducer())
}

// StoreOptions are the pool's epics and middleware, for store.New.
func (sl *Slice[S]) StoreOptions() []store.Option[S] {
	return storeOptions(sl.pool, sl.get)
}

// Bind attaches the store built with Reducer and StoreOptions and returns
// the pool. It fails for a second store.
func (sl *Slice[S]) Bind(st *store.Store[S]) (*Pool, error) {
	if st == nil {
		return nil, errors.New("hawechaty: Bind(nil)")
	}
	p := sl.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st != nil {
		return nil, fmt.Errorf("hawechaty: the slice is bound to a store already")
	}
	p.st = storeBackend[S]{st: st, get: sl.get}
	return p, nil
}
