package epics

import (
	"log/slog"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
)

// Config is the pool's rules (reducers.Config): the epics read the
// settings their effects need (the heartbeat contact, the send timeout,
// protocol dings).
type Config = reducers.Config

// Backoff is reducers.Backoff.
type Backoff = reducers.Backoff

// DefaultBackoff is reducers.DefaultBackoff.
var DefaultBackoff = reducers.DefaultBackoff

// DefaultHeartbeatContact is reducers.DefaultHeartbeatContact.
const DefaultHeartbeatContact = reducers.DefaultHeartbeatContact

// Deps are the resources the effects use, provided by the pool.
type Deps struct {
	// Puppet returns the puppet of a bot.
	Puppet func(bot string) (puppet.Puppet, bool)
	// PuppetAt, when set, is what a send attempt calls instead of
	// Puppet: it also gets where the bot is in the state's Bots
	// (reducers.Send.BotPosition), a hint that spares a lookup kept by
	// position a search by name. It must return what Puppet returns for
	// bot, whatever the hint: a hint is checked, never trusted.
	PuppetAt func(bot string, pos int) (puppet.Puppet, bool)
	// Deliver hands a message the reducer accepted to the application. It
	// must not block. Nil: accepted messages are only announced with
	// actions.MessageAccepted.
	Deliver func(actions.MessagePayload)
	// Forward makes an attempt on a bot that another process drives (in
	// a cluster; see Forwarder). Nil: such an attempt is not sent.
	Forward Forwarder
	// Log receives effect errors (a ding that could not be sent). Nil
	// discards.
	Log *slog.Logger
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}
