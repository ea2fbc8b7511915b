package reducers

import (
	"strconv"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// Fingerprint returns the content key of an inbound message for the
// dedupe: a 64-bit FNV-1a hash, in base 36, of its conversation (the room,
// or for a direct message the account it reached, self), its sender and
// its text. Bots on different providers see one message under different
// IDs but with the same fingerprint. The state holds the hash, not the
// text. A message without text, or without an ID (which is always new,
// see SeenKey), has none ("").
func Fingerprint(p actions.MessagePayload, self string) string {
	if p.Text == "" || p.MessageID == "" {
		return ""
	}
	h := uint64(14695981039346656037)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff // a separator no UTF-8 text contains
		h *= 1099511628211
	}
	if p.Room != "" {
		add("room")
		add(p.Room)
	} else {
		add("dm")
		add(self)
	}
	add(p.From)
	add(p.Text)
	return strconv.FormatUint(h, 36)
}

// Fingerprint is Fingerprint(p, self) with self the account p's bot is
// logged in as: the key under which the dedupe remembers p's content.
// The cluster's inbound claims use it too, so that both layers agree on
// what is the same message.
func (s Pool) Fingerprint(p actions.MessagePayload) string {
	self := ""
	if p.Room == "" {
		if b, ok := s.Bots.Get(p.Bot); ok {
			self = b.Self
		}
	}
	return Fingerprint(p, self)
}

// fingerprinted is the dedupe's fallback when message IDs differ: it
// reports whether a message with p's fingerprint was accepted less than
// Config.Fingerprint before t, and otherwise remembers p's. Fingerprints
// live in two generations that turn over every Fingerprint (or at
// 8×DedupeSize fingerprints, whichever comes first), so at most two
// windows' worth are held, and a fingerprint older than the window never
// matches.
//
// The risk of a false positive is written in Config.Fingerprint: the same
// sender sending the same text twice in one conversation within the
// window is delivered once.
func (c *Config) fingerprinted(s Pool, p actions.MessagePayload, t time.Time) (Pool, bool) {
	if c.Fingerprint < 0 {
		return s, false
	}
	fp := s.Fingerprint(p)
	if fp == "" {
		return s, false
	}
	at, ok := s.Prints.Get(fp)
	if !ok {
		at, ok = s.PrintsOld.Get(fp)
	}
	if ok && t.Sub(at) < c.Fingerprint && at.Sub(t) < c.Fingerprint {
		return s, true
	}
	if s.PrintsSince.IsZero() {
		s.PrintsSince = t
	}
	if t.Sub(s.PrintsSince) >= c.Fingerprint || s.Prints.Len() >= seenCap*c.DedupeSize {
		s.PrintsOld, s.Prints, s.PrintsSince = s.Prints, Table[time.Time]{}, t
	}
	s.Prints = s.Prints.Set(fp, t)
	return s, false
}
