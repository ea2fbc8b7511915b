package epics

import (
	"context"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/samber/lo"
)

// Contacts lists a bot's contacts when the reducer asks for it
// (Bot.ContactsBy: at login) and reports actions.ContactsLearned, so that
// sends to a contact go through the bots that know it. A listing that
// fails is logged and leaves the bot unlisted: it is then tried for a
// contact only when no bot that listed it can send.
//
// When the list lacks the heartbeat contact, the handler says so in the
// log: the reducer marks the bot (Pool.Unfollowed) and the Ding handler
// dings it through the puppet protocol (puppet.Dinger) instead.
func Contacts(cfg Config, deps Deps) Handler { return onBot(contacts(cfg, deps)) }

func contacts(cfg Config, deps Deps) botHandler {
	cfg = cfg.Defaults()
	return lister(cfg, deps, "contacts", func(b *reducers.Bot) uint64 { return b.ContactsBy },
		func(ctx context.Context, bot string, pup puppet.Puppet) (actions.Action, error) {
			contacts, err := pup.Contacts(ctx)
			if err != nil {
				return actions.Action{}, err
			}
			ids := lo.Map(contacts, func(c puppet.Contact, _ int) string { return c.ID })
			if !lo.Contains(ids, cfg.HeartbeatContact) {
				_, dinger := pup.(puppet.Dinger)
				deps.log().Warn("epics: the bot does not follow the heartbeat contact; it is dinged through the puppet protocol",
					"bot", bot, "contact", cfg.HeartbeatContact, "protocolDing", dinger)
			}
			return actions.ContactsLearned.New(actions.ContactsPayload{Bot: bot, Contacts: ids}), nil
		})
}
