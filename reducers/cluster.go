package reducers

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// The pool in a cluster (package cluster): several processes, one pool.
// Every process's state holds every bot. A bot is driven by the node that
// holds its lease (Bot.Node, set by cluster/OWNED); only that node's
// reducer watches it (deadlines, dings, failure, resets) and only its
// epics call its puppet. The other processes mirror the facts the owner
// publishes (its login, logout, QR scan, rooms, and the failures and
// recoveries its reducer decided) and route sends to the bot through the
// owner. A bot that no node drives (before its first cluster/OWNED, after
// a cluster/RELEASED) is out of rotation everywhere, and watched by none.
//
// A fact from another process's feed carries its origin (Meta.Node,
// Meta.Token) and is applied only while that node holds that token for the
// bot: a late fact of a former owner, or this process's own fact coming
// back, changes nothing.

// Drives reports whether this process drives bot b: b's Node is
// c.Node. In a pool of one process both are empty, and it drives every
// bot.
func (c Config) Drives(b *Bot) bool { return b.Node == c.Node }

// admit reports whether a, which came from another process's feed, is to
// be reduced: it is about a bot of the pool, and its publisher held the
// bot's lease under its token when it was made (a cluster/OWNED only when
// it brings a newer token). A fact this process published itself is
// never reduced twice.
func (c *Config) admit(s Pool, a actions.Action) bool {
	if a.Meta.Node == c.Node {
		return false
	}
	if p, ok := actions.Owned.Match(a); ok {
		return p.Node == a.Meta.Node // the OWNED case checks its token
	}
	b, ok := s.Bots.Get(actions.BotOf(a))
	return ok && b.Node == a.Meta.Node && b.Token == a.Meta.Token
}

// cluster reduces the cluster actions, and the notices of a bot's
// recovery told by its owner. It returns false for an action it does not
// know or that changes nothing.
func (c *Config) cluster(s Pool, a actions.Action, t time.Time, seq uint64) (Pool, bool) {
	switch a.Type {
	case actions.Owned.Type():
		p, _ := actions.Owned.Match(a)
		if p.Bot == "" || p.Node == "" {
			return s, false
		}
		s = c.known(s, p.Bot, t)
		if b, _ := s.Bots.Get(p.Bot); p.Token <= b.Token {
			return s, false // a token no newer than one seen: a former holder's
		}
		return c.update(s, p.Bot, seq, func(b *Bot) {
			b.Node, b.Token = p.Node, p.Token
			// The holder starts the bot's puppet: the bot is out of
			// rotation until it logs in there, and its silence counts
			// from now, for the holder that watches it.
			b.LoggedIn = false
			unavailable(b, t, "starting on node "+p.Node)
			restart(b, t)
		}), true
	case actions.Released.Type():
		p, _ := actions.Released.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok || b.Node == "" || p.Node != b.Node || (p.Token != 0 && p.Token != b.Token) {
			return s, false
		}
		reason := "released by node " + p.Node
		if p.Reason != "" {
			reason += ": " + p.Reason
		}
		return c.update(s, p.Bot, seq, func(b *Bot) {
			b.Node, b.LoggedIn = "", false
			unavailable(b, t, reason)
			restart(b, t)
		}), true
	case actions.BotRecovered.Type():
		// The owner's notice that its reducer made the bot available
		// again (after a dong, say): news only for the other processes.
		p, _ := actions.BotRecovered.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok || c.Drives(b) || b.Available {
			return s, false
		}
		return c.update(s, p.Bot, seq, func(b *Bot) {
			b.LoggedIn = true // the owner recovers only a logged-in bot
			alive(b, t)
			recovered(b)
		}), true
	case actions.Snapshot.Type():
		p, _ := actions.Snapshot.Match(a)
		return c.snapshot(s, p, seq)
	}
	return s, false
}

// known returns s with a record for bot, added (without a puppet kind,
// out of rotation) if the pool did not know it: a bot that another
// process drives is in every process's pool, whether or not this process
// could drive it.
func (c *Config) known(s Pool, bot string, t time.Time) Pool {
	if s.Bots.Has(bot) {
		return s
	}
	b := &Bot{ID: bot, Reason: "added", LastSeen: t, Since: t}
	b.Due = c.next(b)
	return s.added(b)
}

// restart sets b's heartbeat back to the start: watched from t, no ding
// sent, no reset under way or due.
func restart(b *Bot, t time.Time) {
	b.Phase, b.LastSeen, b.Dings, b.NextDing, b.ScanSince = Watching, t, 0, time.Time{}, time.Time{}
	b.Reset, b.ResetAt, b.Resetting, b.Failures = 0, time.Time{}, false, 0
}

// mirrorFailed applies the owner's bot/FAILED to the record of a bot this
// process does not drive: the owner's decision (Decided) is news; an
// order to fail the bot is for the process that drives it, and changes
// nothing here.
func mirrorFailed(b *Bot, t time.Time, p actions.ReasonPayload) {
	if !p.Decided {
		return
	}
	unavailable(b, t, p.Reason)
	if b.Phase == Watching && b.LoggedIn {
		b.Phase = Failed // silence or failed sends: the owner resets it
	}
}

// snapshot takes from a snapshot of the feed the records of the bots this
// process does not drive, and their rooms, adding the bots driven
// elsewhere that the pool did not know. A bot this process drives, and a
// record older (by its token) than the one held, are left as they are; so is everything else in the snapshot (the
// sends and inbound messages of the process that wrote it). A snapshot
// that does not decode changes nothing.
func (c *Config) snapshot(s Pool, p actions.SnapshotPayload, seq uint64) (Pool, bool) {
	var snap Pool
	if err := json.Unmarshal(p.State, &snap); err != nil {
		return s, false
	}
	roomsOf := map[string][]string{}
	for room, bots := range snap.Rooms.All() {
		for _, b := range bots {
			roomsOf[b] = append(roomsOf[b], room)
		}
	}
	changed := false
	for id, sb := range snap.Bots.All() {
		if sb.Node != "" && sb.Node != c.Node {
			s = c.known(s, id, sb.LastSeen)
		}
		b, ok := s.Bots.Get(id)
		if !ok || c.Drives(b) || sb.Token < b.Token {
			continue
		}
		changed = true
		s.Selves = selvesMove(s.Selves, b.Self, sb.Self)
		s = c.update(s, id, seq, func(nb *Bot) {
			puppet := nb.Puppet
			*nb = *sb
			nb.Puppet = puppet
			if nb.Node == c.Node {
				nb.Node = "" // this process's word on its own bots is its state's
			}
			nb.DingBy, nb.ResetBy, nb.RoomsBy, nb.FlipBy = 0, 0, 0, 0
			if nb.Available && (!nb.LoggedIn || nb.Phase != Watching || nb.Node == "") {
				nb.Available = false // a record that contradicts itself is not routed to
			}
		})
		mine := roomsOf[id]
		if cur := roomsListing(s.Rooms, id); !slices.Equal(cur, sortedCopy(mine)) {
			s.Rooms = roomsWithout(s.Rooms, id)
			for _, r := range mine {
				s.Rooms = roomWith(s.Rooms, r, id, s.Bots)
			}
		}
	}
	return s, changed
}

// roomsListing returns the rooms bot is in, sorted.
func roomsListing(rooms Table[[]string], bot string) []string {
	var out []string
	for id, bots := range rooms.All() {
		if slices.Contains(bots, bot) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
