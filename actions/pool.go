package actions

import "time"

// Pool actions: every bot event and every pool decision. Payloads are plain
// data (JSON-friendly, no secrets, no channels) so that DevTools can show
// them and golden files can record them.

// BotPayload names one bot.
type BotPayload struct {
	Bot string `json:"bot"`
}

// BotAddedPayload adds a bot to the pool.
type BotAddedPayload struct {
	Bot    string `json:"bot"`
	Puppet string `json:"puppet"` // puppet kind, for example "mock"
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
}

// MessagePayload reports a message seen by a bot.
type MessagePayload struct {
	Bot       string `json:"bot"`
	MessageID string `json:"messageId"`
	From      string `json:"from"`
	Room      string `json:"room,omitempty"`
	Text      string `json:"text"`
}

// DingPayload reports a heartbeat probe.
type DingPayload struct {
	Bot     string `json:"bot"`
	Attempt int    `json:"attempt"` // 1 for the first ding after silence
	Puppet  bool   `json:"puppet"`  // a protocol-level ding (Dinger) rather than a chat message
}

// RoomsPayload tells which rooms a bot is in.
type RoomsPayload struct {
	Bot   string   `json:"bot"`
	Rooms []string `json:"rooms"`
}

// ResetPayload reports a reset attempt of a failed bot.
type ResetPayload struct {
	Bot     string        `json:"bot"`
	Attempt int           `json:"attempt"` // 1-based
	Delay   time.Duration `json:"delay"`   // backoff waited before this attempt
	Error   string        `json:"error,omitempty"`
}

// SendPayload is a request to send text through the pool.
type SendPayload struct {
	ID   string `json:"id"` // unique per Say call
	To   string `json:"to"` // room or contact ID
	Text string `json:"text"`
}

// RoutePayload records which bot a send attempt goes through.
type RoutePayload struct {
	ID      string `json:"id"`
	Bot     string `json:"bot"`
	Attempt int    `json:"attempt"` // 1-based
}

// SendResultPayload reports the end of one send attempt.
type SendResultPayload struct {
	ID      string `json:"id"`
	Bot     string `json:"bot"`
	Attempt int    `json:"attempt"`
	Outcome string `json:"outcome"` // "delivered", "not sent", "outcome unknown", "permanent", "canceled", "abandoned"
	Error   string `json:"error,omitempty"`
}

// SendDonePayload ends a send: exactly one per SendRequested.
type SendDonePayload struct {
	ID       string `json:"id"`
	Bot      string `json:"bot,omitempty"` // the bot that delivered, or the last one tried
	Attempts int    `json:"attempts"`
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
}

// Bot lifecycle and heartbeat actions.
var (
	BotAdded     = Define[BotAddedPayload]("bot/ADDED")
	BotRemoved   = Define[BotPayload]("bot/REMOVED")
	Login        = Define[LoginPayload]("bot/LOGIN")
	Logout       = Define[ReasonPayload]("bot/LOGOUT")
	Scan         = Define[BotPayload]("bot/SCAN")
	Message      = Define[MessagePayload]("bot/MESSAGE")
	Heartbeat    = Define[BotPayload]("bot/HEARTBEAT") // the puppet says its connection is alive
	Ding         = Define[DingPayload]("bot/DING")
	Dong         = Define[BotPayload]("bot/DONG")
	RoomsLearned = Define[RoomsPayload]("bot/ROOMS")
	BotFailed    = Define[ReasonPayload]("bot/FAILED")
	BotRecovered = Define[BotPayload]("bot/RECOVERED")
	ResetStarted = Define[ResetPayload]("bot/RESET_STARTED")
	ResetFailed  = Define[ResetPayload]("bot/RESET_FAILED")
	// ResetDone: a reset's Stop and Start returned. The bot is available
	// again only when it logs in or answers a ding.
	ResetDone = Define[ResetPayload]("bot/RESET_DONE")
)

// Send actions.
var (
	SendRequested = Define[SendPayload]("send/REQUESTED")
	SendRouted    = Define[RoutePayload]("send/ROUTED")
	SendResult    = Define[SendResultPayload]("send/RESULT")
	SendDone      = Define[SendDonePayload]("send/DONE")
)

// Pool-level events.
var (
	// PoolFailed: the last available bot became unavailable.
	PoolFailed = Define[Empty]("pool/FAILED")
	// PoolRecovered: the first bot became available again after PoolFailed.
	PoolRecovered = Define[Empty]("pool/RECOVERED")
)
