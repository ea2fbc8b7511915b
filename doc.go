// Package hawechaty keeps a chatbot service up by teaming several bot
// accounts: a heartbeat finds a dead bot, sends are spread over the live
// ones and retried on another bot when they were not sent, and a failed
// bot is reset with backoff until it answers again.
//
// It is a port of HAWechaty (TypeScript) built as a reactive store: every
// bot event is a typed action (package actions) reduced by pure reducers
// (package reducers) into the pool state; epics on rxgo (package epics)
// run the heartbeat, resets and send routing; selectors (package
// selectors) choose the bot; and the live state can stream to Redux
// DevTools (package devtools).
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
