package mock

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// DefaultHeartbeatContact is the ID of the official account that answers
// "dong" to "ding": the ChatieIO account HAWechaty uses.
const DefaultHeartbeatContact = "gh_051c89260e5d"

// Errors of the mock world. Send errors also wrap one of puppet.ErrNotSent,
// puppet.ErrOutcomeUnknown or puppet.ErrPermanent.
var (
	// ErrUnknown is wrapped when an ID names no contact, bot or room.
	ErrUnknown = errors.New("mock: unknown contact or room")
	// ErrExists is wrapped when an ID is taken already.
	ErrExists = errors.New("mock: ID already in the world")
	// ErrInvalidID is wrapped when an ID is empty.
	ErrInvalidID = errors.New("mock: empty ID")
	// ErrNotMember is wrapped when a room is used by someone not in it.
	ErrNotMember = errors.New("mock: not a member of the room")
	// ErrClosed is wrapped by calls on a closed bot or world.
	ErrClosed = errors.New("mock: closed")
	// ErrInjected is wrapped by every failure a test injected.
	ErrInjected = errors.New("mock: injected fault")
)

// Delivery is one message that reached its target.
type Delivery struct {
	Bot       string // the bot that sent it
	To        string // room or contact ID
	Text      string
	MessageID string // the ID other bots see it under
	Time      time.Time

	// Media is what the message carried instead of text; nil for text.
	Media *puppet.Media
}

// World is an in-memory chat platform: contacts, rooms, an official account
// that answers "dong" to "ding", and bots (puppets) with injectable faults.
// It reads time only through the time package, so inside a testing/synctest
// bubble it runs in virtual time; with a seed, its randomness is
// reproducible. A World is safe for concurrent use.
type World struct {
	mu        sync.Mutex
	seed      uint64
	official  string
	dongDelay time.Duration
	dingDelay time.Duration
	contacts  map[string]puppet.Contact
	rooms     map[string]*puppet.Room
	roomOrder []string
	bots      map[string]*Bot
	botOrder  []string
	delivered []Delivery
	seq       map[string]int // message counter per sender and conversation
	timers    map[*time.Timer]struct{}
	closed    bool
	media     map[string]puppet.Media // by message ID, for MessageFile and friends (media.go)
}

// NewWorld returns a world with nothing in it but the official account.
func NewWorld(opts ...Option) *World {
	w := &World{
		seed:      1,
		official:  DefaultHeartbeatContact,
		dongDelay: time.Second,
		dingDelay: time.Second,
		contacts:  map[string]puppet.Contact{},
		rooms:     map[string]*puppet.Room{},
		bots:      map[string]*Bot{},
		seq:       map[string]int{},
		timers:    map[*time.Timer]struct{}{},
		media:     map[string]puppet.Media{},
	}
	for _, o := range opts {
		if o != nil {
			o.apply(w)
		}
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
	if err := w.freeLocked("contact", id); err != nil {
		return err
	}
	w.contacts[id] = puppet.Contact{ID: id, Name: name}
	return nil
}

// AddRoom adds a room with its members (contact or bot IDs, duplicates
// ignored).
func (w *World) AddRoom(id, topic string, members ...string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.freeLocked("room", id); err != nil {
		return err
	}
	var list []string
	for _, m := range members {
		if !w.isPersonLocked(m) {
			return fmt.Errorf("mock: add room %q: member %q: %w", id, m, ErrUnknown)
		}
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	w.rooms[id] = &puppet.Room{ID: id, Topic: topic, Members: list}
	w.roomOrder = append(w.roomOrder, id)
	return nil
}

// Join adds a contact or bot to a room. Joining twice is a no-op.
func (w *World) Join(room, member string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.rooms[room]
	if !ok {
		return fmt.Errorf("mock: join room %q: %w", room, ErrUnknown)
	}
	if !w.isPersonLocked(member) {
		return fmt.Errorf("mock: join room %q: member %q: %w", room, member, ErrUnknown)
	}
	if !slices.Contains(r.Members, member) {
		r.Members = append(slices.Clone(r.Members), member)
	}
	return nil
}

// Leave takes a contact or bot out of a room. From then on a bot that left
// gets ErrPermanent when it says something there.
func (w *World) Leave(room, member string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.rooms[room]
	if !ok {
		return fmt.Errorf("mock: leave room %q: %w", room, ErrUnknown)
	}
	i := slices.Index(r.Members, member)
	if i < 0 {
		return fmt.Errorf("mock: leave room %q: %q: %w", room, member, ErrNotMember)
	}
	r.Members = slices.Delete(slices.Clone(r.Members), i, i+1)
	return nil
}

// freeLocked checks that id can name something new.
func (w *World) freeLocked(what, id string) error {
	switch {
	case w.closed:
		return fmt.Errorf("mock: add %s %q: %w", what, id, ErrClosed)
	case id == "":
		return fmt.Errorf("mock: add %s: %w", what, ErrInvalidID)
	case w.isPersonLocked(id) || w.rooms[id] != nil:
		return fmt.Errorf("mock: add %s %q: %w", what, id, ErrExists)
	}
	return nil
}

func (w *World) isPersonLocked(id string) bool {
	_, c := w.contacts[id]
	_, b := w.bots[id]
	return c || b
}

// AddBot adds a bot account whose contact ID and puppet name are id. The
// bot starts stopped; every contact and bot can reach it, and it can say
// something to every contact and bot and to the rooms it is in. Its events
// flow as soon as it is started; Close the bot or the world to end it.
//
// The ID of a closed bot may be taken again: the new bot is the same
// account with a new puppet, still a member of the old one's rooms.
func (w *World) AddBot(id string, opts ...BotOption) (*Bot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, reuse := w.bots[id]
	if reuse && (!old.closed || w.closed) {
		reuse = false // taken by a live bot, or the world is closed
	}
	if reuse {
		delete(w.bots, id) // botOrder keeps its place
	} else if err := w.freeLocked("bot", id); err != nil {
		return nil, err
	}
	var cfg botConfig
	for _, o := range opts {
		if o != nil {
			o.applyBot(&cfg)
		}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	b := newBot(w, id, cfg, rand.New(rand.NewPCG(w.seed, h.Sum64())))
	w.bots[id] = b
	if !reuse {
		w.botOrder = append(w.botOrder, id)
	}
	return b, nil
}

// Bot returns a bot by ID.
func (w *World) Bot(id string) (*Bot, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[id]
	return b, ok
}

// Post makes a contact (or bot) send text to a room it is in, or directly
// to a bot. Every bot that sees it gets an EventMessage with the same
// message ID, which Post returns. A bot sees a message when it is started,
// logged in, alive and not dropping inbound messages; a message a bot does
// not see is gone for it, as on a real platform while the account is
// offline.
func (w *World) Post(from, conversation, text string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkPostLocked(from, conversation); err != nil {
		return "", err
	}
	return w.sendLocked(from, conversation, text), nil
}

// checkPostLocked says why from may not post to conversation (a room it
// is in, or a bot), or nil when it may.
func (w *World) checkPostLocked(from, conversation string) error {
	if !w.isPersonLocked(from) {
		return fmt.Errorf("mock: post from %q: %w", from, ErrUnknown)
	}
	if r, ok := w.rooms[conversation]; ok {
		if !slices.Contains(r.Members, from) {
			return fmt.Errorf("mock: post from %q to room %q: %w", from, conversation, ErrNotMember)
		}
	} else if _, ok := w.bots[conversation]; !ok {
		return fmt.Errorf("mock: post from %q to %q (not a room or bot): %w", from, conversation, ErrUnknown)
	}
	return nil
}

// sendLocked hands a message from a person to whichever bots see it and
// returns its ID; the target was checked.
func (w *World) sendLocked(from, to, text string) string {
	return w.postLocked(from, to, puppet.Message{Text: text})
}

// postLocked is sendLocked for a message like msg (its text and kind).
func (w *World) postLocked(from, to string, msg puppet.Message) string {
	id := w.nextIDLocked(from, to)
	now := time.Now()
	if r, ok := w.rooms[to]; ok {
		for _, m := range r.Members {
			if b, ok := w.bots[m]; ok && m != from {
				b.receiveLocked(&puppet.Message{ID: id, From: from, Room: r.ID, Text: msg.Text, Time: now, Kind: msg.Kind})
			}
		}
		return id
	}
	if b, ok := w.bots[to]; ok && to != from {
		b.receiveLocked(&puppet.Message{ID: id, From: from, To: to, Text: msg.Text, Time: now, Kind: msg.Kind})
	}
	return id
}

// nextIDLocked numbers messages per sender and conversation, so that IDs
// do not depend on the order in which unrelated timers fire.
func (w *World) nextIDLocked(from, to string) string {
	k := from + "\x00" + to
	w.seq[k]++
	return from + ">" + to + "#" + strconv.Itoa(w.seq[k])
}

// Delivered returns every message a bot delivered, in the order they
// arrived. Two bots' deliveries at the same virtual instant may come in
// either order.
func (w *World) Delivered() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.delivered)
}

// deliverLocked records a message sent by bot and passes it on: other bots
// in the room (or the bot addressed) receive it, and the official account
// answers a "ding".
func (w *World) deliverLocked(bot, to, text string) {
	id := w.sendLocked(bot, to, text)
	w.delivered = append(w.delivered, Delivery{Bot: bot, To: to, Text: text, MessageID: id, Time: time.Now()})
	if to == w.official && text == "ding" {
		w.afterLocked(w.dongDelay, func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.sendLocked(w.official, bot, "dong")
		})
	}
}

// reachLocked tells whether bot may send to target, or why not.
func (w *World) reachLocked(bot, target string) error {
	if r, ok := w.rooms[target]; ok {
		if !slices.Contains(r.Members, bot) {
			return fmt.Errorf("mock: %q says to room %q: %w: %w", bot, target, ErrNotMember, puppet.ErrPermanent)
		}
		return nil
	}
	if w.isPersonLocked(target) {
		if b, ok := w.bots[bot]; ok && !b.friends.has(target) {
			return fmt.Errorf("mock: %q says to %q: %w: %w", bot, target, ErrNotFriend, puppet.ErrNotFriend)
		}
		return nil
	}
	return fmt.Errorf("mock: %q says to %q: %w: %w", bot, target, ErrUnknown, puppet.ErrPermanent)
}

// afterLocked runs f after d on a timer goroutine unless the world closes
// first.
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

// contactsLocked lists the official account, the contacts by ID and the
// other bots in the order they were added.
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

// Close closes every bot, stops the world's timers and refuses new bots.
// Calls after the first return nil.
func (w *World) Close() error {
	w.mu.Lock()
	w.closed = true
	for t := range w.timers {
		t.Stop()
	}
	clear(w.timers)
	bots := make([]*Bot, 0, len(w.botOrder))
	for _, id := range w.botOrder {
		bots = append(bots, w.bots[id])
	}
	w.mu.Unlock()
	for _, b := range bots {
		_ = b.Close()
	}
	return nil
}
