// Package store is a Redux-style store for Go: typed actions, a pure
// reducer, middleware, subscriptions, and redux-observable epics on rxgo.
//
// Dispatch is serialized and safe from any goroutine; State returns the
// latest snapshot without a lock. Subscribers and epics see every action
// in dispatch order. Nothing the store feeds can block it: subscriptions
// drop (and count) what a slow reader cannot take, and epic inputs are
// unbounded queues, so an epic that answers every action with more actions
// cannot deadlock the store.
//
// # Usage
//
//	st, err := store.New(reducer, initial,
//		store.WithLogger[State](logger),
//		store.WithMiddleware(logging),
//		store.WithEpic("heartbeat", heartbeatEpic))
//	if err != nil { … }
//	if err := st.Start(ctx); err != nil { … } // runs the epics
//	defer st.Stop()
//
//	sub := st.Subscribe(1024)
//	go func() {
//		for c := range sub.C() {
//			fmt.Println(c.Action.Type, c.State)
//		}
//	}()
//	_ = st.Dispatch(Login.New(LoginPayload{Bot: "bot-1"}))
//
// The main loop, as the store runs it:
//
//	for each Dispatch(a):           // middleware first, outermost first
//		lock
//		a.Meta.Time, a.Meta.Seq = now, seq+1
//		state = reducer(state, a)
//		offer (a, state) to every subscription    // never blocks
//		push a to every epic input, state to every state stream
//		unlock
//	for each epic:                  // on its own goroutines
//		for out := range epic(ctx, actions$, state$):
//			Dispatch(out)       // errors: logged, actions.EpicFailed, epic ends
package store
