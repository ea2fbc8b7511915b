package mock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// DefaultHeartbeatContact is the official account that answers "dong".
const DefaultHeartbeatContact = "gh_051c89260e5d"

// Errors of the mock world.
var (
	ErrUnknown = errors.New("mock: unknown contact or room")
	ErrExists  = errors.New("mock: ID already in the world")
)

// Delivery is one message that reached its target.
type Delivery struct {
	Bot       string // the bot that sent it
	To        string // room or contact ID
	Text      string
	MessageID string
	Time      time.Time
}

// World is an in-memory chat platform: contacts, rooms, an official account
// that answers "dong" to "ding", and bots (puppets) with injectable faults.
// It uses the time package only, so inside a testing/synctest bubble it runs
// in virtual time; with a seed, its randomness is reproducible.
type World struct {
	mu        sync.Mutex
	rng       *rand.Rand
	official  string
	dongDelay time.Duration
	dingDelay time.Duration
	contacts  map[string]puppet.Contact
	rooms     map[string]*puppet.Room
	roomOrder []string
	bots      map[string]*Bot
	botOrder  []string
	delivered []Delivery
	msgSeq    int
	timers    map[*time.Timer]struct{}
	closed    bool
}

// Option configures a World.
type Option func(*World)

// WithSeed makes the world's randomness (flapping) reproducible.
func WithSeed(seed uint64) Option {
	return func(w *World) { w.rng = rand.New(rand.NewPCG(seed, seed^0x5bd1e995)) }
}

// WithHeartbeatContact sets the official account's ID.
func WithHeartbeatContact(id string) Option { return func(w *World) { w.official = id } }

// WithDongDelay sets how long the official account takes to answer a ding
// (default 1 s).
func WithDongDelay(d time.Duration) Option { return func(w *World) { w.dongDelay = d } }

// WithDingDelay sets how long a protocol-level Ding takes to come back as
// EventDong (default 1 s, as Wechaty's PuppetMock).
func WithDingDelay(d time.Duration) Option { return func(w *World) { w.dingDelay = d } }

// NewWorld returns an empty world with its official account.
func NewWorld(opts ...Option) *World {
	w := &World{
		official:  DefaultHeartbeatContact,
		dongDelay: time.Second,
		dingDelay: time.Second,
		contacts:  map[string]puppet.Contact{},
		rooms:     map[string]*puppet.Room{},
		bots:      map[string]*Bot{},
		timers:    map[*time.Timer]struct{}{},
		rng:       rand.New(rand.NewPCG(1, 2)),
	}
	for _, o := range opts {
		o(w)
	}
	w.contacts[w.official] = puppet.Contact{ID: w.official, Name: "Chatie official account"}
	return w
}

// HeartbeatContact returns the official account's ID.
func (w *World) HeartbeatContact() string { return w.official }

// AddContact adds a person.
func (w *World) AddContact(id, name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.taken(id) {
		return fmt.Errorf("%w: %q", ErrExists, id)
	}
	w.contacts[id] = puppet.Contact{ID: id, Name: name}
	return nil
}

// AddRoom adds a room with its members (contact or bot IDs).
func (w *World) AddRoom(id, topic string, members ...string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.taken(id) {
		return fmt.Errorf("%w: %q", ErrExists, id)
	}
	for _, m := range members {
		if _, ok := w.contacts[m]; !ok {
			if _, ok := w.bots[m]; !ok {
				return fmt.Errorf("%w: member %q of room %q", ErrUnknown, m, id)
			}
		}
	}
	w.rooms[id] = &puppet.Room{ID: id, Topic: topic, Members: slices.Clone(members)}
	w.roomOrder = append(w.roomOrder, id)
	return nil
}

// Join adds a member to a room.
func (w *World) Join(room, member string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.rooms[room]
	if !ok {
		return fmt.Errorf("%w: room %q", ErrUnknown, room)
	}
	if !slices.Contains(r.Members, member) {
		r.Members = append(r.Members, member)
	}
	return nil
}

func (w *World) taken(id string) bool {
	_, c := w.contacts[id]
	_, r := w.rooms[id]
	_, b := w.bots[id]
	return c || r || b || id == ""
}

// AddBot adds a bot account whose contact ID and puppet name are id. The
// bot starts stopped.
func (w *World) AddBot(id string) (*Bot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.taken(id) {
		return nil, fmt.Errorf("%w: %q", ErrExists, id)
	}
	b := newBot(w, id)
	w.bots[id] = b
	w.botOrder = append(w.botOrder, id)
	return b, nil
}

// Bot returns a bot by ID.
func (w *World) Bot(id string) (*Bot, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[id]
	return b, ok
}

// Post makes a contact send text to a room (every started bot in it sees
// the message, with one message ID) or to a bot directly. It returns the
// message ID.
func (w *World) Post(from, conversation, text string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.contacts[from]; !ok {
		if _, ok := w.bots[from]; !ok {
			return "", fmt.Errorf("%w: sender %q", ErrUnknown, from)
		}
	}
	w.msgSeq++
	id := fmt.Sprintf("msg-%d", w.msgSeq)
	now := time.Now()
	if r, ok := w.rooms[conversation]; ok {
		for _, m := range r.Members {
			if b, ok := w.bots[m]; ok && m != from {
				b.receive(&puppet.Message{ID: id, From: from, Room: r.ID, Text: text, Time: now})
			}
		}
		return id, nil
	}
	if b, ok := w.bots[conversation]; ok {
		b.receive(&puppet.Message{ID: id, From: from, To: b.id, Text: text, Time: now})
		return id, nil
	}
	return "", fmt.Errorf("%w: conversation %q", ErrUnknown, conversation)
}

// Delivered returns every message that reached its target, in order.
func (w *World) Delivered() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.delivered)
}

// deliver records a message sent by bot; w.mu is held.
func (w *World) deliverLocked(bot, to, text string) {
	w.msgSeq++
	w.delivered = append(w.delivered, Delivery{Bot: bot, To: to, Text: text, MessageID: fmt.Sprintf("msg-%d", w.msgSeq), Time: time.Now()})
	if to == w.official && text == "ding" {
		w.afterLocked(w.dongDelay, func() {
			_, _ = w.Post(w.official, bot, "dong")
		})
	}
	if b, ok := w.bots[to]; ok && to != bot {
		// A bot writing to another bot: the other one receives it.
		b.receive(&puppet.Message{ID: fmt.Sprintf("msg-%d", w.msgSeq), From: bot, To: to, Text: text, Time: time.Now()})
	}
}

// canReach reports whether bot may send to target, or why not; w.mu is held.
func (w *World) canReachLocked(bot, target string) error {
	if r, ok := w.rooms[target]; ok {
		if !slices.Contains(r.Members, bot) {
			return fmt.Errorf("mock: %q is not in room %q: %w", bot, target, puppet.ErrPermanent)
		}
		return nil
	}
	if _, ok := w.contacts[target]; ok {
		return nil
	}
	if _, ok := w.bots[target]; ok {
		return nil
	}
	return fmt.Errorf("mock: no contact or room %q: %w", target, puppet.ErrPermanent)
}

// afterLocked runs f after d on its own goroutine unless the world closes
// first; w.mu is held.
func (w *World) afterLocked(d time.Duration, f func()) {
	if w.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		w.mu.Lock()
		_, live := w.timers[t]
		delete(w.timers, t)
		w.mu.Unlock()
		if live {
			f()
		}
	})
	w.timers[t] = struct{}{}
}

func (w *World) roomsOfLocked(bot string) []puppet.Room {
	var out []puppet.Room
	for _, id := range w.roomOrder {
		r := w.rooms[id]
		if slices.Contains(r.Members, bot) {
			out = append(out, puppet.Room{ID: r.ID, Topic: r.Topic, Members: slices.Clone(r.Members)})
		}
	}
	return out
}

func (w *World) contactsLocked(self string) []puppet.Contact {
	out := []puppet.Contact{w.contacts[w.official]}
	ids := make([]string, 0, len(w.contacts))
	for id := range w.contacts {
		if id != w.official {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, w.contacts[id])
	}
	for _, id := range w.botOrder {
		if id != self {
			out = append(out, puppet.Contact{ID: id, Name: id})
		}
	}
	return out
}

// Close closes every bot and stops the world's timers.
func (w *World) Close() error {
	w.mu.Lock()
	w.closed = true
	for t := range w.timers {
		t.Stop()
	}
	w.timers = map[*time.Timer]struct{}{}
	bots := make([]*Bot, 0, len(w.bots))
	for _, id := range w.botOrder {
		bots = append(bots, w.bots[id])
	}
	w.mu.Unlock()
	for _, b := range bots {
		_ = b.Close()
	}
	return nil
}
