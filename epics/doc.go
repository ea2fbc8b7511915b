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
//
// # What counts
//
// Signs of life are a login, a message, and a heartbeat or dong from a bot
// that is logged in. A logged-out bot's connection may go on beating (the
// Wechaty puppet service forwards heartbeats whatever the login), so its
// heartbeats and dongs renew nothing: it is failed FailAfter after its
// last sign of life and reset, and a dong does not end its resets.
//
// A QR scan is pending from a Scan until the next Login. Meanwhile the bot
// is unavailable (it is not logged in) but it is not dinged, not failed
// for FailAfter, and not reset, since a reset would restart the login a
// human is completing. If no Login comes within ScanTimeout (10 min, not
// shorter than FailAfter) of the first Scan, the bot is failed and reset
// as usual; a refreshed QR code does not move that deadline.
//
// A reset whose Stop and Start take longer than SendTimeout counts as
// failed, even if they return nil late, and the backoff goes on.
//
// Events about a bot that is no longer in the pool (a removed bot's late
// message, or a failure that lands just after its removal) are ignored,
// so a bot added again under the same name starts afresh.
package epics
