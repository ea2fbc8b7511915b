package actions

import "time"

// Pool actions. Payloads are plain data (JSON-friendly, no secrets, no
// channels) so that DevTools can show them and golden files record them.
//
// Three kinds travel through a pool's store:
//   - events, translated from a puppet (bot/LOGIN, bot/MESSAGE …) or made
//     by the facade (bot/ADDED, send/REQUESTED …);
//   - the clock's bot/DUE, when a deadline the state holds has passed;
//   - effect results, emitted by the epics after a puppet call (bot/DING,
//     bot/RESET_DONE, bot/ROOMS, send/RESULT) and notifications of what
//     the reducer decided (bot/FAILED, bot/RECOVERED, pool/FAILED,
//     pool/RECOVERED, inbox/ACCEPTED).
//
// The reducer makes every decision; an epic acts on a decision only in the
// action whose reduction made it (see reducers.Pool).

// BotPayload names one bot.
type BotPayload struct {
	Bot string `json:"bot"`
}

// BotAddedPayload adds a bot to the pool.
type BotAddedPayload struct {
	Bot    string `json:"bot"`
	Puppet string `json:"puppet"` // puppet kind, for example "mock"
	// NoMedia lists the media kinds the bot's puppet cannot send (it
	// lacks the capability: puppet.CannotSend). Sends of those kinds are
	// not routed to the bot. Empty: it can send them all, or nobody said.
	NoMedia []MediaKind `json:"noMedia,omitempty"`
}

// LoginPayload reports a login.
type LoginPayload struct {
	Bot  string `json:"bot"`
	Self string `json:"self"` // the account's own contact ID
}

// ReasonPayload carries a bot and why something happened to it.
type ReasonPayload struct {
	Bot    string `json:"bot"`
	Reason string `json:"reason"`
	// Decided marks a bot/FAILED that tells of a decision the reducer has
	// made (the health epic's), not one that asks for it: reducers take
	// it as news.
	Decided bool `json:"decided,omitempty"`
}

// ScanPayload reports a QR code a bot asks to have scanned, and where the
// login stands. QR is the code's payload, redacted in every printed or
// encoded form (see QR); it may be zero (a status without a new code).
type ScanPayload struct {
	Bot    string     `json:"bot"`
	Status ScanStatus `json:"status"`
	QR     QR         `json:"qr,omitzero"`
}

// MessagePayload reports a message seen by a bot.
type MessagePayload struct {
	Bot       string    `json:"bot"`
	MessageID string    `json:"messageId"`
	From      string    `json:"from"`
	Room      string    `json:"room,omitempty"`
	Text      string    `json:"text"`
	Time      time.Time `json:"time,omitzero"` // when the platform says it was sent

	// Kind is what the message carries besides text ("" for text); the
	// facade's Message fetches it.
	Kind MediaKind `json:"kind,omitempty"`

	// Elsewhere: another process of the cluster claimed the message first
	// (package cluster): the reducer takes it as the bot's sign of life,
	// not as a message for the application.
	Elsewhere bool `json:"elsewhere,omitempty"`
}

// DingPayload reports a heartbeat probe the ding epic sent (or failed to).
type DingPayload struct {
	Bot     string `json:"bot"`
	Attempt int    `json:"attempt"` // 1 for the first ding after silence
	Error   string `json:"error,omitempty"`
}

// RoomsPayload tells which rooms a bot is in.
type RoomsPayload struct {
	Bot   string   `json:"bot"`
	Rooms []string `json:"rooms"`
}

// DuePayload is the clock's word that a bot's deadline has passed: At is
// the deadline the clock saw in the state. The reducer acts on it only if
// the bot's deadline is still At, and takes the later of At and the
// action's stamp as the time, so the clock's reading and the stamp never
// disagree about whether a deadline has passed.
type DuePayload struct {
	Bot string    `json:"bot"`
	At  time.Time `json:"at"`
}

// ResetPayload reports the end of a reset (Stop, then Start) of a failed
// bot. Error is empty when both returned nil in time.
type ResetPayload struct {
	Bot     string `json:"bot"`
	Attempt int    `json:"attempt"` // 1-based, since the bot failed
	Error   string `json:"error,omitempty"`
	// Decision is the Seq of the bot/DUE that started the reset
	// (reducers.Bot.ResetBy): a reset that outlived a login and a new
	// failure does not end the new one's attempt of the same number.
	Decision uint64 `json:"decision,omitempty"`
}

// SendPayload is a request to send text, or media, through the pool.
type SendPayload struct {
	ID   string `json:"id"` // unique per Say call
	To   string `json:"to"` // room or contact ID
	Text string `json:"text"`

	// Media is what the send carries instead of text; nil for text.
	Media *Media `json:"media,omitempty"`

	// Collect: the caller takes the outcome from the state that ends the
	// send (the pool's Ended), so the pool forgets the send as it ends
	// and needs no send/COLLECTED. Without it the ended send stays in the
	// state until send/COLLECTED. Say sets it.
	Collect bool `json:"collect,omitempty"`
}

// SendIDPayload names one send.
type SendIDPayload struct {
	ID string `json:"id"`
}

// SendResultPayload reports the end of one send attempt.
type SendResultPayload struct {
	ID      string  `json:"id"`
	Bot     string  `json:"bot"`
	Attempt int     `json:"attempt"`
	Outcome Outcome `json:"outcome"` // Delivered, NotSent, Unknown or Permanent
	// CallerGone: the attempt was cut short for its caller, so its
	// failure is not the bot's. The pool's send epic never sets it (an
	// attempt runs to the puppet's answer or the send timeout); an
	// application's own effect runner may. (Beside Outcome: the payload
	// is boxed for every attempt, in 80 bytes rather than 96.)
	CallerGone bool   `json:"callerGone,omitempty"`
	Error      string `json:"error,omitempty"`
	// Node is the process that made the attempt, in a cluster (package
	// cluster); empty in a pool of one process.
	Node string `json:"node,omitempty"`
}

// Bot lifecycle, heartbeat and effect actions.
var (
	BotAdded     = Define[BotAddedPayload]("bot/ADDED")
	BotRemoved   = Define[BotPayload]("bot/REMOVED")
	Login        = Define[LoginPayload]("bot/LOGIN")
	Logout       = Define[ReasonPayload]("bot/LOGOUT")
	Scan         = Define[ScanPayload]("bot/SCAN")
	Message      = Define[MessagePayload]("bot/MESSAGE")
	Heartbeat    = Define[BotPayload]("bot/HEARTBEAT") // the puppet says its connection is alive
	Dong         = Define[BotPayload]("bot/DONG")
	RoomsLearned = Define[RoomsPayload]("bot/ROOMS")
	// Due: the clock says a deadline of the bot has passed. The reducer
	// decides what is due: a ding, the failure, a reset.
	Due = Define[DuePayload]("bot/DUE")
	// Ding: the ding epic sent the ding the reducer decided.
	Ding = Define[DingPayload]("bot/DING")
	// ResetDone: a reset's Stop and Start returned (or timed out). The bot
	// is available again only when it logs in or answers a ding.
	ResetDone = Define[ResetPayload]("bot/RESET_DONE")
	// BotFailed fails a bot: dispatched by an application or operator, it
	// takes the bot out of rotation and resets it; emitted by the health
	// epic with Decided set, it tells that the bot became unavailable
	// (failed, logged out, waiting for a QR scan) and changes nothing.
	BotFailed = Define[ReasonPayload]("bot/FAILED")
	// BotRecovered tells that the reducer made a failed bot available
	// again (a login, or a dong while logged in).
	BotRecovered = Define[BotPayload]("bot/RECOVERED")
)

// Send actions.
var (
	// SendRequested asks the pool to send; the reducer routes it.
	SendRequested = Define[SendPayload]("send/REQUESTED")
	// SendResult ends an attempt; the reducer retries, ejects or ends the
	// send.
	SendResult = Define[SendResultPayload]("send/RESULT")
	// SendRetry asks the reducer to route a send that waits for a bot.
	SendRetry = Define[SendIDPayload]("send/RETRY")
	// SendCanceled: the caller's context ended.
	SendCanceled = Define[SendIDPayload]("send/CANCELED")
	// SendCollected: the caller has the result (or gave up waiting); the
	// pool forgets the send once it has ended. A send requested with
	// SendPayload.Collect needs none.
	SendCollected = Define[SendIDPayload]("send/COLLECTED")
)

// Inbound messages.
var (
	// MessageAccepted is one inbound message the reducer accepted as new
	// and for the application: exactly one per message the application
	// sees, so an application's reducer can count them.
	MessageAccepted = Define[MessagePayload]("inbox/ACCEPTED")
)

// Pool-level events.
var (
	// PoolFailed: the last available bot became unavailable.
	PoolFailed = Define[Empty]("pool/FAILED")
	// PoolRecovered: the first bot became available again after PoolFailed.
	PoolRecovered = Define[Empty]("pool/RECOVERED")
)

// BotOf returns the bot a pool action is about, or "" for an action
// that names none.
func BotOf(a Action) string {
	switch p := a.Payload.(type) {
	case BotPayload:
		return p.Bot
	case BotAddedPayload:
		return p.Bot
	case LoginPayload:
		return p.Bot
	case ScanPayload:
		return p.Bot
	case ReasonPayload:
		return p.Bot
	case MessagePayload:
		return p.Bot
	case DuePayload:
		return p.Bot
	case DingPayload:
		return p.Bot
	case ResetPayload:
		return p.Bot
	case RoomsPayload:
		return p.Bot
	case ContactsPayload:
		return p.Bot
	case ContactPayload:
		return p.Bot
	case SendResultPayload:
		return p.Bot
	case OwnedPayload:
		return p.Bot
	case ReleasedPayload:
		return p.Bot
	}
	return ""
}

// SendOf returns the send a send action is about, or "".
func SendOf(a Action) string {
	switch p := a.Payload.(type) {
	case SendPayload:
		return p.ID
	case SendIDPayload:
		return p.ID
	case SendResultPayload:
		return p.ID
	}
	return ""
}
