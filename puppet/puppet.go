package puppet

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// Puppet is one bot account's connection to a chat platform.
//
// A Puppet is created stopped. Start connects; Stop disconnects; Start after
// Stop is a reset. Events delivers events for the puppet's whole life, across
// resets, and is closed only by Close. Implementations must be safe for
// concurrent use.
type Puppet interface {
	// Name identifies the puppet in logs and in the pool ("mock#0").
	// It never contains a secret.
	Name() string
	// Start connects and begins emitting events. A puppet that is already
	// started returns nil.
	Start(ctx context.Context) error
	// Stop disconnects. The puppet emits EventLogout if it was logged in.
	// A stopped puppet returns nil.
	Stop(ctx context.Context) error
	// Events returns the event stream. The same channel is returned on every
	// call. It is closed after Close returns.
	Events() <-chan Event
	// Say sends text to a room or a contact by ID. Its error, if any, is
	// classified by Classify: ErrNotSent, ErrOutcomeUnknown, ErrPermanent,
	// or ErrNotFriend for a contact this account cannot reach.
	Say(ctx context.Context, to string, text string) error
	// Rooms lists the rooms this bot is in, with their members.
	Rooms(ctx context.Context) ([]Room, error)
	// Contacts lists the contacts this bot can reach (its friends and
	// official accounts it follows). The pool sends to a contact it has
	// learned only through the bots that list it.
	Contacts(ctx context.Context) ([]Contact, error)
	// Close stops the puppet and releases everything it holds. Calls after
	// the first return nil.
	Close() error
}

// Dinger is implemented by puppets that offer a protocol-level heartbeat:
// Ding asks the platform to answer with an EventDong carrying data.
type Dinger interface {
	Ding(ctx context.Context, data string) error
}

// TrySayer is implemented by puppets that can often send without waiting:
// an in-process puppet, or one that queues the send and answers at once.
// The pool then makes a text send's attempt on the goroutine that routed
// it, instead of handing it to a goroutine of its own and back: for a
// puppet that answers at once, that hand-over is most of a Say's cost.
// A puppet that talks to a server over the network has nothing to gain.
type TrySayer interface {
	// TrySay is Say, when it can answer at once: without waiting on I/O,
	// a timer, another goroutine, or a lock held by someone who waits.
	// It then reports done and Say's error, classified as Say's. When
	// it would have to wait, it does nothing at all and reports done
	// false; the pool then calls Say. It must decide that atomically: a
	// TrySay that starts to send must not wait.
	//
	// self is the puppet the caller holds, whose Say TrySay stands for
	// (see the function TrySay, which passes only comparable ones). An
	// implementation answers only when self is itself (for a pointer
	// receiver p: self == Puppet(p)): a type that embeds it and defines
	// its own Say inherits its TrySay, which must then not bypass that
	// Say.
	TrySay(self Puppet, to, text string) (done bool, err error)
}

// TrySay calls p's TrySay, with p as self, when p is a TrySayer, and
// otherwise reports done false: then call p.Say. It also reports done
// false for a p whose type is not comparable (a struct value holding a
// map, say): comparing self with == would panic in its TrySay.
func TrySay(p Puppet, to, text string) (done bool, err error) {
	t, ok := p.(TrySayer)
	if !ok || !reflect.TypeOf(p).Comparable() {
		return false, nil
	}
	return t.TrySay(p, to, text)
}

// EventKind tells events apart.
type EventKind int

// Event kinds.
const (
	EventLogin         EventKind = iota + 1 // logged in; Event.Self is the account's contact ID
	EventLogout                             // logged out or disconnected
	EventScan                               // a QR code waits to be scanned; Event.Data is the QR payload
	EventMessage                            // Event.Message is set
	EventDong                               // answer to Dinger.Ding; Event.Data echoes the ding data
	EventHeartbeat                          // the connection is alive
	EventError                              // Event.Err is set; the puppet may still work
	EventFriendAdded                        // the account became friends with Event.Data (a contact ID)
	EventFriendRemoved                      // the account is no longer friends with Event.Data, when the platform tells
)

var kindNames = [...]string{"", "login", "logout", "scan", "message", "dong", "heartbeat", "error", "friend added", "friend removed"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is something that happened to one puppet.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Self    string   // EventLogin: the bot's own contact ID
	Data    string   // EventScan: QR payload; EventDong: echoed data
	Message *Message // EventMessage
	Err     error    // EventError

	// Scan tells where the login stands, for EventScan.
	Scan ScanStatus
}

// Message is a text message seen by a bot.
type Message struct {
	ID   string // platform message ID, the same for every bot that sees it
	From string // sender contact ID
	To   string // receiving contact ID when not in a room
	Room string // room ID, empty for a direct message
	Text string
	Time time.Time

	// Kind is what the message carries besides text ("" for text): fetch
	// it with FetchMedia by ID.
	Kind MediaKind
}

// Conversation returns where a reply to m should go: the room, or the sender.
func (m *Message) Conversation() string {
	if m.Room != "" {
		return m.Room
	}
	return m.From
}

// Room is a group chat.
type Room struct {
	ID      string
	Topic   string
	Members []string // contact IDs, including the bot itself
}

// Contact is a person or official account.
type Contact struct {
	ID   string
	Name string
}

// Send outcomes. Puppets wrap one of these in the error returned by Say.
var (
	// ErrNotSent means the message certainly did not leave: it is safe to
	// send it through another bot.
	ErrNotSent = errors.New("puppet: not sent")
	// ErrOutcomeUnknown means the request may have been delivered (for
	// example a timeout after it left). It must not be retried elsewhere.
	ErrOutcomeUnknown = errors.New("puppet: outcome unknown")
	// ErrPermanent means the send can never succeed as asked (no such
	// room, blocked, text refused). Retrying elsewhere will not help.
	ErrPermanent = errors.New("puppet: permanent failure")
	// ErrNotFriend means this account cannot reach the target (not a
	// friend, or it blocked the account): the message did not leave, and
	// another bot that knows the target may send it.
	ErrNotFriend = errors.New("puppet: not a friend")
)

// Outcome is the classification of a Say error: actions.Outcome, the one
// outcome type of the pool.
type Outcome = actions.Outcome

// Outcomes of a puppet's send.
const (
	Delivered      = actions.Delivered // nil error
	NotSent        = actions.NotSent
	OutcomeUnknown = actions.Unknown
	Permanent      = actions.Permanent
	Unreachable    = actions.Unreachable
)

// Classify maps a Say error to an Outcome: ErrNotFriend is Unreachable
// (before ErrNotSent, which it may wrap too). An error that wraps none of the
// sentinels is OutcomeUnknown: when in doubt, never send twice. A context
// error (canceled or deadline exceeded) is OutcomeUnknown too, unless the
// puppet wrapped ErrNotSent around it.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return Delivered
	case errors.Is(err, ErrNotFriend):
		return Unreachable
	case errors.Is(err, ErrNotSent):
		return NotSent
	case errors.Is(err, ErrPermanent):
		return Permanent
	default:
		return OutcomeUnknown
	}
}
