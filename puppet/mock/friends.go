package mock

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hawechaty/hawechaty/puppet"
)

// ErrNotFriend is wrapped, with puppet.ErrNotFriend, when a bot says
// something to a contact or bot it is not friends with.
var ErrNotFriend = errors.New("mock: not a friend")

// friendship is whom one bot can reach directly. The zero value is a bot
// that is friends with everyone, as bots were before friendships.
type friendship struct {
	only      bool            // friends only with the IDs in friends
	friends   map[string]bool // with only: the bot's friends
	strangers map[string]bool // without only: the people it is not friends with
}

func (f *friendship) has(id string) bool {
	if f.only {
		return f.friends[id]
	}
	return !f.strangers[id]
}

func (f *friendship) add(id string) {
	delete(f.strangers, id)
	if f.only {
		if f.friends == nil {
			f.friends = map[string]bool{}
		}
		f.friends[id] = true
	}
}

func (f *friendship) remove(id string) {
	delete(f.friends, id)
	if !f.only {
		if f.strangers == nil {
			f.strangers = map[string]bool{}
		}
		f.strangers[id] = true
	}
}

// WithFriends makes the bot friends only with ids (contacts, bots, or the
// official account: a bot that does not list it cannot ding it and relies
// on the protocol-level Ding). Without it a bot is friends with everyone.
// A bot can say something directly only to its friends: to anyone else
// Say fails with ErrNotFriend and puppet.ErrNotFriend, and Contacts lists
// only its friends. IDs need not exist yet.
func WithFriends(ids ...string) BotOption {
	return botOption(func(c *botConfig) {
		c.friendsOnly = true
		c.friends = append(c.friends, ids...)
	})
}

func newFriendship(c botConfig) friendship {
	f := friendship{only: c.friendsOnly}
	for _, id := range c.friends {
		f.add(id)
	}
	return f
}

// Befriend makes bot and contact friends (a contact accepted the bot's
// request, or the other way round). A bot that is up learns it at once
// with EventFriendAdded, as Wechaty's friendship events tell a bot; the
// contact may be another bot, which is told too.
func (w *World) Befriend(bot, contact string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[bot]
	switch {
	case !ok:
		return fmt.Errorf("mock: befriend: bot %q: %w", bot, ErrUnknown)
	case !w.isPersonLocked(contact):
		return fmt.Errorf("mock: befriend %q: %q: %w", bot, contact, ErrUnknown)
	}
	if !b.friends.has(contact) {
		b.friends.add(contact)
		if b.upLocked() {
			b.emitLocked(puppet.Event{Kind: puppet.EventFriendAdded, Data: contact})
		}
	}
	return nil
}

// Unfriend ends the friendship of bot and contact. The bot is not told,
// as on real platforms: its next Say to the contact fails with
// ErrNotFriend, and a later Contacts no longer lists it.
func (w *World) Unfriend(bot, contact string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[bot]
	if !ok {
		return fmt.Errorf("mock: unfriend: bot %q: %w", bot, ErrUnknown)
	}
	b.friends.remove(contact)
	return nil
}

// friendsOfLocked filters a contact list down to the bot's friends.
func (w *World) friendsOfLocked(bot string, all []puppet.Contact) []puppet.Contact {
	b, ok := w.bots[bot]
	if !ok {
		return all
	}
	return slices.DeleteFunc(all, func(c puppet.Contact) bool { return !b.friends.has(c.ID) })
}

// WithProvider makes the bot see messages under IDs of its provider's
// own, "provider:ID", as bots on different puppet providers see one
// message in a room under different IDs. Post still returns the world's
// ID.
func WithProvider(provider string) BotOption {
	return botOption(func(c *botConfig) { c.provider = provider })
}
