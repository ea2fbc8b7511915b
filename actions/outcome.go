package actions

import "fmt"

// Outcome is how a send, or one attempt of it, ended. The puppet package
// classifies a puppet's error into the first four; the pool adds the
// others. Its JSON form is its String, so DevTools shows words.
type Outcome uint8

// Send outcomes.
const (
	// Pending: the send or attempt has not ended.
	Pending Outcome = iota
	// Delivered: a bot sent the message.
	Delivered
	// NotSent: the message certainly did not leave; another bot may send it.
	NotSent
	// Unknown: the message may have left (a timeout after the request went
	// out, an error nobody classified). Never retried elsewhere.
	Unknown
	// Permanent: the send can never succeed as asked (no such room,
	// blocked, text refused). Retrying elsewhere will not help.
	Permanent
	// NoBot: no available bot could reach the target.
	NoBot
	// Canceled: the caller's context ended before the message was sent.
	// Not the bot's failure.
	Canceled
	// Abandoned: the caller's context ended during an attempt whose outcome
	// is unknown; the message may have been delivered. Not the bot's
	// failure, and never retried.
	Abandoned
	// Unreachable: for an attempt, the bot cannot reach the target (not a
	// friend); the message did not leave and another bot that knows the
	// target may send it. For a send: every bot tried refused so.
	Unreachable
	// RateLimited: every bot that could send was over its send budget
	// until the caller's context ended. Nothing was sent.
	RateLimited
)

var outcomeNames = [...]string{"pending", "delivered", "not sent", "outcome unknown", "permanent", "no bot", "canceled", "abandoned", "unreachable", "rate limited"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Done reports whether o ends a send.
func (o Outcome) Done() bool { return o != Pending && int(o) < len(outcomeNames) }

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) {
	if int(o) >= len(outcomeNames) {
		return nil, fmt.Errorf("actions: invalid outcome %d", uint8(o))
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("%w: outcome %q", ErrInvalid, b)
}
