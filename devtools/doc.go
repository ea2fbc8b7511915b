// Package devtools shows a live store in the real Redux DevTools, over the
// protocol of remote-redux-devtools (SocketCluster v2 on a websocket).
//
// Two ways to connect:
//
//   - Client (Connect): the store connects to a relay (@redux-devtools/cli,
//     default ws://127.0.0.1:8000/socketcluster/), logs in as an app, and
//     subscribes to "respond" and to its own "sc-<id>" channel. It sends
//     START and INIT with the current state, then one ACTION per store
//     change with the new state and maxAge; it answers both heartbeat
//     styles, sends INIT again when a monitor says START, drops a relay that
//     is silent for pingTimeout, and reconnects with backoff (500 ms
//     doubling to 30 s, ±20 %).
//   - Endpoint (NewEndpoint): the Go process serves the same protocol, so a
//     monitor (socketcluster-client, the Redux DevTools app, the browser
//     extension's remote mode) connects straight to it. ListenAndServe
//     listens on 127.0.0.1 unless the address names a host (":8001" is
//     loopback too). It checks the Origin, limits frame size and the
//     number of monitors (WithMaxConnections, default 64; above it HTTP
//     503), and can require a shared secret. Anyone who reaches it reads
//     every state, message texts included: name a non-loopback host only
//     with WithSecret.
//
// # Costs and safety
//
// The store is never slowed beyond one non-blocking channel send per
// change: DevTools reads a store subscription with a bounded buffer
// (WithQueue) and encodes on its own goroutine; what does not fit, there
// or in a monitor's queue, is dropped and counted (Stats.Dropped). Every
// state and action passes the redactor before it leaves the process
// (RedactSecrets by default). Bad frames close that connection, or are
// ignored, with a log line and a count; the store and the other
// connections go on.
//
// # Time travel on a live store
//
// Inspect-only by default: time travel and dispatch from a monitor are
// refused, logged and counted (Stats.Refused), and the store is untouched.
// With WithTimeTravel(true):
//
//   - JUMP_TO_ACTION and JUMP_TO_STATE set the store to the state after
//     that action. In the web UI this is the slider under the action list;
//     the Jump buttons on the rows are shown only to instances that can
//     skip actions, which a live store cannot. The state comes from a mirror of the history the monitor
//     holds (the last maxAge states this process sent), never from the
//     state the monitor sends back: that one is redacted, and it is input
//     from the network. A state the mirror does not hold is refused.
//   - The jump is store.Replace(state, "devtools"): reducers do not run;
//     subscribers and epics see an actions.Replaced action (so the monitor
//     lists the jump as "@@store/REPLACE"); epics keep running, with their
//     timers; dispatch is not paused, and the next live action reduces
//     from the jumped state. On a pool this means the heartbeat goes on and
//     corrects whatever the jumped state says about the bots, so a jump is
//     a tool for development, not for production.
//   - COMMIT makes the current state the monitor's base; ROLLBACK returns
//     to that base; RESET returns to the state the store had when DevTools
//     attached. Each sends INIT again, as the monitor expects.
//   - TOGGLE_ACTION, SWEEP, REORDER_ACTION, IMPORT_STATE and the other
//     commands do not fit a live store and are refused.
//
// With WithRemoteDispatch("app/ADD", …), an action typed in the
// monitor's dispatcher, a JavaScript object literal such as
// { type: 'app/ADD', payload: 5 }, is parsed (as JavaScript reads it),
// decoded into its defined action type (actions.Decode) and dispatched
// with source "devtools", if its type is one the option lists. Any other
// type is refused and the monitor gets an ERROR message saying why; so is
// a literal that does not parse or decode. The pool's own action types
// ("bot/", "send/", "pool/", "inbox/") and the store's ("@@") can never be
// listed: a monitor must not be able to forge a bot's login or a send's
// completion.
//
// # Usage
//
// Watch a store in the Redux DevTools web UI through the relay:
//
//	c, err := devtools.Connect(ctx, st,
//		devtools.WithURL("ws://127.0.0.1:8000"),
//		devtools.WithName("my bots"))
//	if err != nil { … }
//	defer c.Close()
//
// with the relay running (`npx @redux-devtools/cli@4.0.3 --port=8000`);
// open http://127.0.0.1:8000, Settings, Connection, "use local (custom)
// server", host 127.0.0.1, port 8000, Connect.
//
// Or serve monitors from the process itself:
//
//	e, err := devtools.NewEndpoint(st, devtools.WithTimeTravel(true))
//	if err != nil { … }
//	go e.ListenAndServe(ctx, "127.0.0.1:8001") // ws://127.0.0.1:8001/socketcluster/
//
// The main loop of a connection, as both run it:
//
//	for {
//		select {
//		case change := <-subscription:    // bounded; drops are counted
//			send ACTION(redact(change.State), redact(change.Action))
//			mirror.push(actionID, change.State)
//		case command := <-monitor:
//			START → send INIT; JUMP → store.Replace(mirror[target]); …
//		}
//	}
package devtools
