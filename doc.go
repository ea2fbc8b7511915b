// Package hawechaty keeps a chatbot service up by teaming several bot
// accounts: a heartbeat finds a dead bot, sends are spread over the live
// ones and retried on another bot when they were not sent, and a failed
// bot is reset with backoff until it answers again.
//
// It is a port of HAWechaty (TypeScript) built as a reactive store: every
// bot event is a typed action (package actions) reduced by pure reducers
// (package reducers) into the pool state; epics on rxgo (package epics)
// run the clock and the effects; selectors (package selectors) read the
// state; and the live state can stream to Redux DevTools (package
// devtools).
//
// # Where a decision is made
//
// The state is the pool: everything the pool knows is in reducers.Pool,
// and every decision is the reducer's (reducers.Config.Reducer), a pure
// function of the previous state and an action stamped with its time:
//
//   - which bot a send goes through (the bots that reach its target, within
//     their send budgets, sticky under affinity), whether it is retried on
//     another bot, and how it ended: reducers/send.go, reducers/contacts.go,
//     reducers/rate.go;
//   - when a bot is dinged, failed, reset, and with which backoff; when a
//     QR scan has waited too long; when failed sends eject a bot:
//     reducers/pool.go;
//   - whether an inbound message is new and for the application (by ID,
//     then by content fingerprint): reducers/pool.go (accept),
//     reducers/dedupe.go.
//
// The epics (package epics) carry the decisions out: the Clock turns the
// next deadline into bot/DUE, the Effect handlers call the puppets and
// report the results as actions. This package is a view and a lifecycle:
// it holds the puppets, turns their events into actions (Translate),
// dispatches a send request and waits for the state to say how it ended
// (Pool.Say), hands the messages the reducer accepted to Messages, and
// tells what the reduced actions mean (a QR scan, a login, a failure, the
// pool down …) as typed events to Events (EventOf). NewSlice mounts the
// same pool in an application's own store.
//
// # Usage
//
//	pool, err := hawechaty.New(hawechaty.WithDingAfter(30 * time.Second))
//	if err != nil { … }
//	for _, p := range puppets {
//		if err := pool.Add(ctx, p); err != nil { … }
//	}
//	if err := pool.Start(ctx); err != nil {
//		log.Print(err) // the bots that did not start; the pool runs anyway
//	}
//	defer pool.Stop(ctx)
//
//	for m := range pool.Messages() { // each message once, whatever bots saw it; none of the pool's own
//		if m.Text == "ping" {
//			if _, err := m.Reply(ctx, "pong"); err != nil {
//				// errors.Is(err, hawechaty.ErrNoBot), puppet.ErrOutcomeUnknown, …
//			}
//		}
//	}
//
// Or from the environment, as HAWechaty does:
//
//	// HA_WECHATY_PUPPET=mock:mock HA_WECHATY_PUPPET_TOKEN=t1:t2
//	pool, err := hawechaty.FromEnv(ctx)
package hawechaty
