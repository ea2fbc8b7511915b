// Package devtools streams a store to the real Redux DevTools, over the
// protocol of remote-redux-devtools (SocketCluster v2 on a websocket).
//
// Client mode connects to a relay (@redux-devtools/cli, default
// ws://127.0.0.1:8000/socketcluster/), logs in as an app, sends START and
// INIT with the current state, then one ACTION per store change with the
// new state; it answers a monitor's START with the state again, and
// reconnects with backoff when the relay goes away.
//
// Everything that leaves the process passes the redactor (RedactSecrets by
// default: values under keys like token, secret, password, authorization).
// The store is never slowed: changes reach the network through a bounded
// subscription, and what does not fit is dropped and counted.
//
// # Monitor commands on a live store
//
// Inspect-only by default: time travel and dispatch from the monitor are
// refused, logged and counted (Stats.Refused), and the store is untouched.
// With WithTimeTravel, JUMP_TO_STATE and JUMP_TO_ACTION replace the live
// state with the one the monitor sends (store.Replace): reducers do not
// run, epics keep running and see an actions.Replaced action, dispatch is
// not paused, and the next live action continues from the jumped state.
// COMMIT marks the current state; ROLLBACK returns to it; RESET returns to
// the state the store had when DevTools attached. Other commands (toggle,
// sweep, reorder, import) do not fit a live pool and are refused.
// With WithRemoteDispatch, an action typed in the monitor's dispatcher
// ({ type: 'bot/DONG', payload: { bot: 'b1' } }, a JavaScript literal) is
// decoded into a defined action type and dispatched with source "devtools".
//
// # Usage
//
//	c, err := devtools.Connect(ctx, pool.Store(),
//		devtools.WithURL("ws://127.0.0.1:8000"),
//		devtools.WithName("my bots"))
//	if err != nil { … }
//	defer c.Close()
//
// Then open http://127.0.0.1:8000 (started with
// `npx @redux-devtools/cli@4.0.3 --port=8000`), Settings, Connection, "use
// local (custom) server", host 127.0.0.1, port 8000, Connect.
package devtools
