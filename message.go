package hawechaty

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/hawechaty/hawechaty/puppet"
)

// Message is an inbound message, seen once by the application even when
// several bots of the pool received it.
type Message struct {
	ID   string
	From string // sender contact ID
	Room string // room ID, empty for a direct message
	Text string
	Bot  string // the first bot that saw it
	Time time.Time
	// Kind is what the message carries besides text ("" for text): see
	// File, URL and ContactCard.
	Kind puppet.MediaKind

	pool *Pool
}

// Conversation returns where a reply goes: the room, or the sender.
func (m Message) Conversation() string {
	if m.Room != "" {
		return m.Room
	}
	return m.From
}

// Reply answers in the message's conversation through the pool (not
// necessarily through the bot that received it).
func (m Message) Reply(ctx context.Context, text string) (Receipt, error) {
	if m.pool == nil {
		return Receipt{}, fmt.Errorf("hawechaty: reply to message %q, which comes from no pool", m.ID)
	}
	return m.pool.Say(ctx, m.Conversation(), text)
}

// inbox hands the messages the reducer accepted to the application in order,
// through an unbounded queue: a slow reader never blocks the bots' event
// pumps (which would look like silence to the heartbeat), and nothing is
// dropped.
type inbox struct {
	out chan Message

	mu     sync.Mutex
	q      *fifo.Queue[Message]
	closed bool
	done   chan struct{}

	started sync.Once
}

func newInbox(buffer int) *inbox {
	return &inbox{out: make(chan Message, buffer), q: fifo.New[Message](), done: make(chan struct{})}
}

// start begins delivery; the pool calls it from Start, so a pool that is
// never started holds no goroutine.
func (in *inbox) start() {
	in.started.Do(func() { go in.run() })
}

// deliver queues m.
func (in *inbox) deliver(m Message) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.q.Push(m)
	}
}

func (in *inbox) run() {
	defer close(in.out)
	fifo.Pump(in.q, in.out, in.done)
}

// close stops delivery. Messages not yet read are discarded with the
// channel: the pool is stopping.
func (in *inbox) close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	in.mu.Unlock()
	close(in.done)
	in.started.Do(func() { close(in.out) }) // never started: close it here
}
