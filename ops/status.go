package ops

import (
	"github.com/hawechaty/hawechaty/reducers"
)

// Status is a bot's status in the words of WhatsApp Business API's
// gateway_status, mapped from the pool's record of the bot (see BotStatus).
type Status string

// Bot statuses, as BotStatus maps them.
const (
	// Connected: the bot is available (logged in, answering, in rotation).
	Connected Status = "connected"
	// Connecting: the bot failed and a reset (its puppet's Stop, then
	// Start) is under way.
	Connecting Status = "connecting"
	// Disconnected: the bot is out of rotation and no reset is running:
	// it went silent, logged out or failed its sends, and waits for its
	// next reset (with backoff), a login or a dong.
	Disconnected Status = "disconnected"
	// Uninitialized: the bot was added and has not logged in yet (its
	// puppet is starting, or the pool has not started).
	Uninitialized Status = "uninitialized"
	// Unregistered: the bot waits for a human to scan a QR code and log
	// the account in.
	Unregistered Status = "unregistered"
)

// Statuses lists every Status, in the order the metrics and the JSON
// document use.
var Statuses = []Status{Connected, Connecting, Disconnected, Uninitialized, Unregistered}

// BotStatus maps the pool's record of a bot to a Status:
//
//	Available                              connected
//	Phase scanning                         unregistered
//	Phase failed, Resetting                connecting
//	Phase watching, never up (no FailedAt) uninitialized
//	anything else                          disconnected
//
// The first row that matches wins. A nil bot is Uninitialized.
func BotStatus(b *reducers.Bot) Status {
	switch {
	case b == nil:
		return Uninitialized
	case b.Available:
		return Connected
	case b.Phase == reducers.Scanning:
		return Unregistered
	case b.Phase == reducers.Failed && b.Resetting:
		return Connecting
	case b.Phase == reducers.Watching && b.FailedAt.IsZero():
		return Uninitialized
	}
	return Disconnected
}

// PoolStatus is the pool's status as a whole.
type PoolStatus string

// Pool statuses.
const (
	// PoolUp: every bot is available.
	PoolUp PoolStatus = "up"
	// PoolDegraded: some bots are available, not all.
	PoolDegraded PoolStatus = "degraded"
	// PoolDown: no bot is available (or the pool has no bot).
	PoolDown PoolStatus = "down"
	// PoolStopping: the pool is stopping or stopped; its state is no longer
	// kept up to date and nothing is sent.
	PoolStopping PoolStatus = "stopping"
)

// poolStatus is the pool's status from its state.
func poolStatus(s reducers.Pool, stopping bool) PoolStatus {
	switch {
	case stopping:
		return PoolStopping
	case s.Available == 0:
		return PoolDown
	case s.Available < s.Bots.Len():
		return PoolDegraded
	}
	return PoolUp
}
