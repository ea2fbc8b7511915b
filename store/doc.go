// Package store is a Redux-style store for Go: typed actions, a pure
// reducer, middleware, subscriptions, and redux-observable epics on rxgo.
//
// Dispatch is serialized and safe from any goroutine; State returns the
// latest snapshot without a lock, and a commit allocates nothing for it
// (the state is copied into one of a few reused slots). Subscribers and epics see every action
// in dispatch order. Nothing the store feeds can block it: subscriptions
// drop (and count) what a slow reader cannot take, and epic inputs are
// unbounded queues, so an epic that answers every action with more actions
// cannot deadlock the store. While an epic keeps up, the dispatching
// goroutine puts each action straight into the channel of the epic's
// first operator; only a backlog goes through a queue, which
// EpicBacklog measures. An epic whose output is a DirectInput takes its
// actions on the dispatching goroutine instead, as redux-observable's
// epics do: queued behind the dispatch under way, one at a time, with no
// goroutine switch. A commit hook (WithCommitHook) sees each state with
// the action that made it, under the store's lock, before any later
// action. Select is a state stream mapped and made distinct as
// the store commits, so a state that leaves the selected value as it was
// wakes nobody. A reducer that panics fails that one dispatch
// (ErrReducerPanicked); the store goes on.
//
// # Usage
//
//	st, err := store.New(reducer, initial,
//		store.WithLogger[State](logger),
//		store.WithMiddleware(logging),
//		store.WithEpic("heartbeat", heartbeatEpic))
//	if err != nil { … }
//	if err := st.Start(ctx); err != nil { … } // Init, then the epics
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
//		next = reducer(state, a)    // a panic: ErrReducerPanicked, nothing changes
//		state = next
//		call every commit hook with (a, &state)   // WithCommitHook
//		offer (a, state) to every subscription    // never blocks
//		push a to every epic input; state to every state stream if it changed
//		queue a for every direct epic; offer state to every Select
//		unlock
//		unless another goroutine does: take the queued actions, one by one,
//			to the direct epics   // a batch; the store's goroutine takes the rest
//	Start:
//		Dispatch(actions.Init)      // the epics' mailboxes open as Init is reduced
//		for each epic:              // after Init, on its own goroutines
//			for out := range epic(ctx, actions$, state$):
//				Dispatch(out)   // refused: logged; reducer panic: EpicFailed
//
// # Differences from Redux and redux-observable
//
// The store follows Redux's createStore and applyMiddleware and
// redux-observable's createEpicMiddleware and StateObservable; their spec
// cases that apply are ported by name in the tests. Where it differs, on
// purpose:
//
//   - Init is dispatched by Start, not by New, and goes through the
//     middleware. Redux dispatches it in createStore, before the
//     middleware exists; here a store is often built, filled and only
//     then started, a recording middleware (DevTools) should see Init,
//     and a middleware that refuses it is reported by Start, which then
//     stops the store (a createStore that throws leaves no store either).
//     Actions dispatched before Start are reduced before Init.
//   - Epics see Init: it is the first action of every epic's input. In
//     redux-observable epics are run after createStore and never see it;
//     here it tells an epic that the store started, from a state that
//     Value already shows.
//   - An epic's first subscription to its input sees every action from
//     Init on, whenever it is made; later subscriptions are hot. RxJS
//     subscribes synchronously, so every subscription an epic makes while
//     it starts is in place before the next action; rxgo subscribes on
//     goroutines, so the store holds a mailbox per epic until one
//     subscription claims it (see Epic). A second subscription made at
//     start (two branches on one input) may miss the first actions.
//   - A reducer panic is an error value, not an exception: Dispatch and
//     Replace return ErrReducerPanicked (wrapping the panic when it is an
//     error) and nothing is committed, as Redux's "recovers from an error
//     within a reducer". On an action an epic emitted, redux-observable
//     reports the error to the host (HostReportErrors) and goes on; here
//     it is logged and dispatched as actions.EpicFailed, and the epic goes
//     on.
//   - While New builds the middleware chain, a synchronous dispatch from a
//     factory gets ErrBuilding, as Redux throws. JavaScript has no other
//     kind; a dispatch from another goroutine (one a factory started)
//     waits for the chain instead of being lost.
//   - State streams emit a state that is not == the last one: Go's ==,
//     shallow for structs, in place of JavaScript's !==. A state type that
//     == cannot compare (it holds a slice, a map or a func) makes every
//     commit a new state; use pointers or persistent tables to get change
//     detection. Replace always emits. The action stream and the state
//     streams run on their own goroutines, so an epic that merges them
//     may see an action before or after the state it produced (in
//     redux-observable the state comes first); Value always includes the
//     action being handled.
//   - Subscriptions are buffered channels that drop (and count) changes a
//     slow reader cannot take, not synchronous listeners: the store never
//     waits for a reader.
//   - A reducer cannot reach the store, so Redux's checks against
//     dispatch, getState and subscribe inside a reducer have no
//     counterpart; a reducer closure that calls Dispatch would wait for
//     itself.
package store
