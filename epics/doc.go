// Package epics holds the pool's observable pipelines. They decide
// nothing: every decision (a ding, a failure, a reset and its backoff, the
// bot of a send, a retry, an ejection, whether an inbound message is new)
// is the reducer's (package reducers). The epics turn those decisions
// into effects, and effects' results into actions on their output.
//
//   - Clock is the only timer: the next deadline in the state
//     (store.Select, computed as the store commits), switched to a timer
//     whose firing is bot/DUE.
//   - Effect runs handlers on every action: Ding, Reset, Rooms, Contacts
//     and Send call the puppets; Health and Inbox tell what the reducer
//     decided (bot/FAILED, bot/RECOVERED, pool/FAILED, pool/RECOVERED,
//     inbox/ACCEPTED). In a store it takes the actions on the dispatching
//     goroutine (store.DirectInput), as redux-observable hands actions to
//     its epics, and an effect's result is reduced on the effect's own
//     goroutine (store.DirectOutput): a Say costs two goroutine switches,
//     to the effect and back to the caller, or none when the bot's puppet
//     can answer at once (puppet.TrySayer, Effects.RunNow).
//
// # Usage
//
//	cfg := epics.Config{DingAfter: 10 * time.Second, FailAfter: 20 * time.Second}.Defaults()
//	deps := epics.Deps{Puppet: lookup}
//	self := func(s reducers.Pool) reducers.Pool { return s }
//	st, err := store.New(cfg.Reducer(), reducers.Pool{},
//		store.WithEpic("clock", epics.Clock(self)),
//		store.WithEpic("effects", epics.Effect(self, epics.All(cfg, deps))))
//
// All is the seven handlers (Ding, Reset, Rooms, Contacts, Send, Health,
// Inbox), each asked only about the actions it reads; an application
// adds its own handlers beside it.
//
// # The heartbeat, as a timeline
//
// HAWechaty's heartbeat groups messages by bot, debounces them for the
// silence, switches to a timer that emits dings, and is cut by a dong or a
// login. Here the same timeline is split between the reducer, which keeps
// each bot's deadlines, and the Clock, which waits for the earliest:
//
//	bot/MESSAGE ─► reducer: LastSeen = t          (the debounce: silence counts from here)
//	state$ ─► next deadline ─switchMap─► timer ─► bot/DUE
//	bot/DUE ─► reducer: ding #1 at t+DingAfter±jitter, #2 DingEvery later … (Bot.DingBy)
//	        ─► Ding handler: say "ding" to the heartbeat contact ─► bot/DING
//	bot/DONG, bot/LOGIN ─► reducer: silence over, dings stop (takeUntilDong, takeUntilLoginout)
//	bot/DUE at LastSeen+FailAfter ─► reducer: failed, reset #1 due after Backoff.Delay(1)
//	bot/DUE ─► reducer: reset #1 now (Bot.ResetBy) ─► Reset handler: Stop, Start ─► bot/RESET_DONE
//	        ─► reducer: reset #2 due after Delay(2) … until bot/LOGIN or bot/DONG
//
// With HAWechaty's defaults: the first ding after 60 s (±1/6) of silence,
// repeated every 20 s; failure after 120 s of silence; resets after 1 s,
// 1.6 s, 2.56 s … capped at 120 s.
//
// # Acting once on a decision
//
// An epic runs behind the store: when it handles an action, the state it
// reads may already include later ones. A decision that needs an effect
// is therefore marked with the Meta.Seq of the action that made it (the
// store sets Seq before it reduces), and a handler acts on it only while
// handling that very action. A decision is acted on once, never twice,
// whatever the epic's lag, and never again after a DevTools jump or a
// replay, since those come with new Seqs. What an epic holds (an armed
// timer, the register of effects under way) is derived from the state.
//
// # What counts
//
// Signs of life are a login, a message, and a heartbeat or dong from a bot
// that is logged in: a logged-out account's connection may go on beating,
// which proves nothing about the account. A QR scan is pending from a
// Scan until the next Login: the bot is unavailable but neither dinged,
// failed for FailAfter nor reset; if no Login comes within ScanTimeout of
// the first Scan, it is failed and reset as usual.
//
// A send attempt, and a reset, is reported at SendTimeout at the latest,
// even when the puppet ignores its context: a send that does not answer
// counts against its bot whatever the caller's deadline, so a bot whose
// sends hang is ejected after EjectAfter of them.
package epics
