package reducers

import (
	"slices"

	"github.com/hawechaty/hawechaty/actions"
)

// unreachableCap bounds Pool.Unreachable: past that many targets, the
// oldest refusal is forgotten (its bot may be tried there again, and
// refused again).
const unreachableCap = 1 << 14

// reduceContacts reduces what a bot's puppet says of its contacts: its
// whole list (bot/CONTACTS), or one friend more or less.
func (c *Config) reduceContacts(s Pool, a actions.Action) Pool {
	seq := a.Meta.Seq
	switch a.Type {
	case actions.ContactsLearned.Type():
		p, _ := actions.ContactsLearned.Match(a)
		if !s.Bots.Has(p.Bot) {
			return s
		}
		s.Contacts = contactsWithout(s.Contacts, p.Bot)
		follows := false
		for _, id := range p.Contacts {
			s.Contacts = roomWith(s.Contacts, id, p.Bot, s.Bots)
			s.Unreachable = withoutBot(s.Unreachable, id, p.Bot)
			follows = follows || id == c.HeartbeatContact
		}
		s.Unfollowed = setFlag(s.Unfollowed, p.Bot, !follows)
		s = c.update(s, p.Bot, seq, func(b *Bot) { b.Listed = true })
	case actions.ContactAdded.Type():
		p, _ := actions.ContactAdded.Match(a)
		if !s.Bots.Has(p.Bot) || p.Contact == "" {
			return s
		}
		s.Contacts = roomWith(s.Contacts, p.Contact, p.Bot, s.Bots)
		s.Unreachable = withoutBot(s.Unreachable, p.Contact, p.Bot)
		if p.Contact == c.HeartbeatContact {
			s.Unfollowed = setFlag(s.Unfollowed, p.Bot, false)
		}
	case actions.ContactRemoved.Type():
		p, _ := actions.ContactRemoved.Match(a)
		if !s.Bots.Has(p.Bot) || p.Contact == "" {
			return s
		}
		s = s.refused(p.Contact, p.Bot)
		if p.Contact == c.HeartbeatContact {
			s.Unfollowed = setFlag(s.Unfollowed, p.Bot, true)
		}
	}
	return s
}

// refused records that bot cannot reach target: it no longer counts
// among the target's contacts, and is not routed there until it lists the
// target again.
func (s Pool) refused(target, bot string) Pool {
	if knowers, ok := s.Contacts.Get(target); ok && slices.Contains(knowers, bot) {
		// An emptied list stays: the pool knows the contact, and that no
		// bot reaches it.
		s.Contacts = s.Contacts.Set(target, slices.DeleteFunc(slices.Clone(knowers), func(b string) bool { return b == bot }))
	}
	bots, ok := s.Unreachable.Get(target)
	if slices.Contains(bots, bot) {
		return s
	}
	if !ok && s.Unreachable.Len() >= unreachableCap {
		for oldest := range s.Unreachable.All() {
			s.Unreachable = s.Unreachable.Delete(oldest)
			break
		}
	}
	s.Unreachable = s.Unreachable.Set(target, append(slices.Clone(bots), bot))
	return s
}

// contactsWithout takes bot out of every contact's list. Emptied lists
// stay: the contact is known, and no bot reaches it.
func contactsWithout(t Table[[]string], bot string) Table[[]string] {
	for id, bots := range t.All() {
		if i := slices.Index(bots, bot); i >= 0 {
			t = t.Set(id, slices.Delete(slices.Clone(bots), i, i+1))
		}
	}
	return t
}

// forgetBot drops a removed bot from the contact tables and its budget.
func (s Pool) forgetBot(bot string) Pool {
	s.Contacts = contactsWithout(s.Contacts, bot)
	s.Unreachable = roomsWithout(s.Unreachable, bot)
	if s.Unfollowed.Has(bot) {
		s.Unfollowed = s.Unfollowed.Delete(bot)
	}
	if s.Buckets.Has(bot) {
		s.Buckets = s.Buckets.Delete(bot)
	}
	if s.Sent.Has(bot) {
		s.Sent = s.Sent.Delete(bot)
	}
	return s
}

// withoutBot takes bot out of key's list, dropping an emptied list.
func withoutBot(t Table[[]string], key, bot string) Table[[]string] {
	bots, _ := t.Get(key)
	i := slices.Index(bots, bot)
	if i < 0 {
		return t
	}
	if len(bots) == 1 {
		return t.Delete(key)
	}
	return t.Set(key, slices.Delete(slices.Clone(bots), i, i+1))
}

// setFlag holds key in t exactly when on.
func setFlag(t Table[bool], key string, on bool) Table[bool] {
	switch {
	case on && !t.Has(key):
		return t.Set(key, true)
	case !on && t.Has(key):
		return t.Delete(key)
	}
	return t
}

// Reaches reports whether bot may be routed a send to target, its
// availability and send budget aside: a room only through its members; a
// contact the pool has learned only through the bots that listed it, or
// a bot whose contacts could not be listed; any other target through
// every bot. A bot whose puppet refused the target as not a friend does
// not reach it.
func Reaches(s Pool, target, bot string) bool {
	if refused, _ := s.Unreachable.Get(target); slices.Contains(refused, bot) {
		return false
	}
	if members, isRoom := s.Rooms.Get(target); isRoom {
		return slices.Contains(members, bot)
	}
	if knowers, known := s.Contacts.Get(target); known && !slices.Contains(knowers, bot) {
		b, ok := s.Bots.Get(bot)
		return ok && !b.Listed
	}
	return true
}
