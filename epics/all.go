package epics

import (
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// All is the pool's handlers as one: Ding, Reset, Rooms, Contacts, Send,
// Health and Inbox, each asked only about the actions it can act on, so
// that an action costs the handlers that read it and no others (a
// handler is a call with a copy of the state). It does what
// Effect(get, Ding(cfg, deps), Reset(cfg, deps), …) does with the seven.
//
//   - bot/DUE: Ding, Reset and Send (a refilled send budget);
//   - bot/MESSAGE: Inbox;
//   - the send actions and the actions that make bots available
//     (Send's list): Send;
//   - any action about a bot (actions.BotOf): Rooms and Contacts;
//   - every action: Health (a bot's availability flips, or the pool's).
func All(cfg Config, deps Deps) Handler {
	ding, reset, send := Ding(cfg, deps), Reset(cfg, deps), Send(cfg, deps)
	rooms, contacts, health, inbox := Rooms(cfg, deps), Contacts(cfg, deps), Health(), Inbox(deps)
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		switch {
		case a.Type == actions.Due.Type():
			ding(a, s, fx)
			reset(a, s, fx)
			send(a, s, fx)
		case a.Type == actions.Message.Type():
			inbox(a, s, fx)
		case sendReads(a.Type):
			send(a, s, fx)
		}
		if actions.BotOf(a) != "" {
			rooms(a, s, fx)
			contacts(a, s, fx)
		}
		health(a, s, fx)
	}
}

// sendReads tells the action types, other than bot/DUE, that the Send
// handler acts on.
func sendReads(typ string) bool {
	switch typ {
	case actions.SendRequested.Type(), actions.SendRetry.Type(), actions.SendResult.Type():
		return true
	}
	return wakesQueue(typ)
}
