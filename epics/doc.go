// Package epics holds the pool's observable pipelines: the heartbeat that
// finds dead bots, the reset loop with backoff that brings them back, the
// ejection of bots whose sends keep failing, pool-level failure and
// recovery events, and send routing with retry.
//
// Each constructor returns a store.Epic over reducers.Pool. Effects
// (sending a ding, resetting a puppet, sending a message) go through Deps,
// so tests drive the epics with fakes, and time is the time package, so
// testing/synctest runs them in virtual time.
//
// # Usage
//
//	cfg := epics.Config{DingAfter: 10 * time.Second, FailAfter: 20 * time.Second}.Defaults()
//	deps := epics.Deps{Puppet: lookup, Dispatch: func(a actions.Action) error { return st.Dispatch(a) }}
//	st, err := store.New(reducers.PoolReducer, reducers.Pool{},
//		store.WithEpic("heartbeat", epics.Heartbeat(cfg, deps)),
//		store.WithEpic("reset", epics.Reset(cfg, deps)),
//		store.WithEpic("health", epics.PoolHealth()),
//		store.WithEpic("send", epics.Send(cfg, deps)))
//
// The timings, with HAWechaty's defaults: the first ding after 60 s (±1/6)
// of silence, repeated every 20 s; failure after 120 s of silence; resets
// after 1 s, 1.6 s, 2.56 s … capped at 120 s, until a login or a dong.
package epics
