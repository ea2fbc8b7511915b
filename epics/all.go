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
//   - any action about a bot (actions.BotOf): Rooms, Contacts and Health,
//     which read only that bot's record: All looks it up once for the three;
//   - every action: Health (the pool's availability flips).
func All(cfg Config, deps Deps) Handler {
	ding, reset, send, inbox := Ding(cfg, deps), Reset(cfg, deps), Send(cfg, deps), Inbox(deps)
	rooms, contacts := rooms(cfg, deps), contacts(cfg, deps)
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
		if bot := actions.BotOf(a); bot != "" {
			b := botOf(&s, a, bot) // once for the three
			rooms(a, bot, b, fx)
			contacts(a, bot, b, fx)
			botHealth(a, bot, b, fx)
		}
		poolHealth(a, &s, fx)
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

// botOf returns the record of bot, the bot a is about, or nil. For the
// result that ended a send it reads the record where the send says its
// bot is (Pool.SendBot), which costs no key lookup.
func botOf(s *reducers.Pool, a actions.Action, bot string) *reducers.Bot {
	if p, ok := a.Payload.(actions.SendResultPayload); ok {
		if e := s.Ended; e != nil && e.ID == p.ID && e.Bot == bot {
			if b, ok := s.SendBot(e.Send); ok {
				return b
			}
		}
	}
	b, _ := s.Bots.Get(bot)
	return b
}
