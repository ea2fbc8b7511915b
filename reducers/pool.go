package reducers

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// Phase is where a bot is in the heartbeat's cycle.
type Phase uint8

// Phases of a bot.
const (
	// Watching: the heartbeat counts the bot's silence; it is dinged after
	// DingAfter and failed after FailAfter.
	Watching Phase = iota
	// Scanning: a QR code waits for a human; the bot is failed only when
	// ScanTimeout passes without a login.
	Scanning
	// Failed: the bot is out of rotation and reset with backoff until it
	// logs in or answers a ding.
	Failed
)

var phaseNames = [...]string{"watching", "scanning", "failed"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText writes the phase's name.
func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a phase's name.
func (p *Phase) UnmarshalText(b []byte) error {
	for i, n := range phaseNames {
		if n == string(b) {
			*p = Phase(i)
			return nil
		}
	}
	return fmt.Errorf("reducers: unknown phase %q", b)
}

// Bot is the pool's record of one bot: everything the pool knows of it.
// Records are immutable once in a Pool: the reducer replaces a changed
// record with a new one.
//
// The fields ending in By hold the Meta.Seq of the action whose reduction
// made a decision that needs an effect: an epic handling that very action
// performs the effect when the field still holds its Seq, and a later
// action, a replay or a jump in time never makes it perform it again.
type Bot struct {
	ID     string `json:"id"`
	Puppet string `json:"puppet"`
	// NoMedia holds the media kinds the bot's puppet cannot send
	// (bot/ADDED): a send of one of them is not routed to the bot.
	NoMedia   MediaKinds `json:"noMedia,omitempty"`
	Self      string     `json:"self,omitempty"` // the account's own contact ID, from its last login
	LoggedIn  bool       `json:"loggedIn"`
	Available bool       `json:"available"`
	Phase     Phase      `json:"phase"`
	Reason    string     `json:"reason,omitempty"` // why the bot is unavailable
	Since     time.Time  `json:"since,omitzero"`   // when Available last changed
	FailedAt  time.Time  `json:"failedAt,omitzero"`

	LastSeen  time.Time `json:"lastSeen,omitzero"` // last sign of life: login, message, heartbeat or dong while logged in
	Dings     int       `json:"dings"`             // dings sent since the last sign of life
	NextDing  time.Time `json:"nextDing,omitzero"` // the next ding, once one was sent
	ScanSince time.Time `json:"scanSince,omitzero"`

	Reset     int       `json:"reset"`             // reset attempts since the bot failed
	ResetAt   time.Time `json:"resetAt,omitzero"`  // the next reset, when one is scheduled
	Resetting bool      `json:"resetting"`         // a reset is running
	Due       time.Time `json:"due,omitzero"`      // when the clock looks at the bot next (its key in Pool.Deadlines)
	Failures  int       `json:"failures"`          // consecutive failed sends
	DingBy    uint64    `json:"dingBy,omitempty"`  // a ding is due: send it
	ResetBy   uint64    `json:"resetBy,omitempty"` // a reset is due: run it
	RoomsBy   uint64    `json:"roomsBy,omitempty"` // list the bot's rooms
	FlipBy    uint64    `json:"flipBy,omitempty"`  // Available changed: tell (bot/FAILED, bot/RECOVERED)

	ContactsBy uint64    `json:"contactsBy,omitempty"` // list the bot's contacts
	Listed     bool      `json:"listed,omitempty"`     // its contacts were listed (bot/CONTACTS)
	RefillAt   time.Time `json:"refillAt,omitzero"`    // a send waits for the bot's send budget to refill then
	RefillBy   uint64    `json:"refillBy,omitempty"`   // the budget refilled: route the sends that wait
	// Node is the process that drives the bot, in a cluster (cluster/OWNED);
	// empty in a pool of one process, or when no process drives it. Token
	// is the highest fencing token seen for the bot. See reducers/cluster.go.
	Node  string `json:"node,omitempty"`
	Token uint64 `json:"token,omitempty"`
}

// Send is a send the pool is making or has just ended.
type Send struct {
	ID      string   `json:"id"`
	To      string   `json:"to"`
	Text    string   `json:"text"`
	Bot     string   `json:"bot,omitempty"` // the bot of the current or last attempt
	Attempt int      `json:"attempt"`       // attempts so far
	Tried   []string `json:"tried,omitempty"`
	Waiting bool     `json:"waiting,omitempty"` // no bot yet (WaitForBot, or Throttled)
	// Throttled: the send waits because every bot that could send it is
	// over its send budget (Config.RateLimit).
	Throttled bool `json:"throttled,omitempty"`
	// Collect: forgotten as it ends, its caller reading Pool.Ended
	// (actions.SendPayload.Collect).
	Collect  bool `json:"collect,omitempty"`
	Refusals int  `json:"refusals,omitempty"` // attempts refused as unreachable (not a friend)
	Canceled bool `json:"canceled,omitempty"` // the caller's context ended
	Orphan   bool `json:"orphan,omitempty"`   // the caller stopped waiting: forget it when it ends
	// slot is where Bot was in Bots, Avail and Sent when the reducer
	// chose it: a hint that spares the send's later steps a key lookup
	// (see Pool.botAt), checked before use, never needed. (32 bits, next
	// to the flags: a Send stays 200 bytes.)
	slot     int32
	RoutedBy uint64          `json:"routedBy,omitempty"` // the current attempt was decided by this action: make it
	Outcome  actions.Outcome `json:"outcome"`            // Pending until the send ends
	Error    string          `json:"error,omitempty"`
	Since    time.Time       `json:"since,omitzero"`
	Media    *actions.Media  `json:"media,omitempty"` // what the send carries besides Text; nil for text
	Node     string          `json:"node,omitempty"`  // the process of the last attempt, in a cluster
}

// End is how a send collected as it ended (Pool.Ended) ended: Outcome,
// Error and Node, the process of its last attempt, beside the send's
// record as its last attempt was made (Send). The record is the one the
// state held while the attempt was under way, shared, not copied: read
// the end's Outcome, Error and Node from End, not from End.Send. In JSON
// an End is the send's record with its end in place.
type End struct {
	*Send
	Outcome actions.Outcome `json:"outcome"`
	Error   string          `json:"error,omitempty"`
	Node    string          `json:"node,omitempty"`
}

// Pool is the state of a pool of bots: everything the pool knows.
type Pool struct {
	// Bots holds every bot, in the order they were added.
	Bots Table[*Bot] `json:"bots"`
	// Avail mirrors Bots' Available and changes only when a bot's
	// availability flips, so selectors keyed on it stay cached while
	// messages stream in.
	Avail Table[bool] `json:"-"`
	// Rooms maps a room ID to the bots in it, in pool order.
	Rooms Table[[]string] `json:"rooms"`
	// Contacts maps a contact ID to the bots that listed it among their
	// contacts (bot/CONTACTS, bot/CONTACT_ADDED), in pool order: a send
	// to a contact goes only through them (see NextBot).
	Contacts Table[[]string] `json:"contacts"`
	// Unreachable maps a target to the bots whose puppet refused it as
	// not a friend: they are not routed there until they list it again.
	// At most unreachableCap targets are held, the oldest dropped first.
	Unreachable Table[[]string] `json:"unreachable"`
	// Unfollowed holds the bots whose contacts, once listed, lack the
	// heartbeat contact: they are dinged through the puppet protocol.
	Unfollowed Table[bool] `json:"unfollowed"`
	// Sticky and StickyOld hold each conversation's bot under affinity
	// (Config.Affinity); see Config.AffinitySize.
	Sticky    Table[string] `json:"sticky"`
	StickyOld Table[string] `json:"stickyOld"`
	// Buckets holds each bot's send budget (Config.RateLimit).
	Buckets Table[Bucket] `json:"buckets"`
	// Sent counts the messages each bot delivered, for the bots this
	// process drives (0 for the others). It is kept apart from Bots so
	// that a delivery changes one counter, not the bot's whole record. It
	// has every bot of Bots, at the same position.
	Sent Table[int] `json:"sent"`
	// Selves counts the bots logged in as each account: their messages
	// are the pool's own.
	Selves Table[int] `json:"-"`
	// Deadlines orders the bots by Due, for the clock.
	Deadlines Deadlines `json:"-"`
	// Sends holds the sends in flight, and the ended ones until their
	// caller collects them (send/COLLECTED). A send requested with
	// actions.SendPayload.Collect leaves as it ends.
	Sends Table[*Send] `json:"sends"`
	// Ended is the last send that ended as it was collected
	// (actions.SendPayload.Collect), with how it ended: its caller reads
	// the outcome from the state that ended it.
	Ended *End `json:"ended,omitempty"`
	// Queue holds the sends that wait for a bot, in order.
	Queue Table[bool] `json:"queue"`
	// Seen and SeenOld remember inbound message IDs, each with the Seq of
	// the action that accepted it; see Config.DedupeSize.
	Seen      Table[uint64] `json:"seen"`
	SeenOld   Table[uint64] `json:"seenOld"`
	SeenSince time.Time     `json:"seenSince,omitzero"`
	// Prints and PrintsOld remember the content fingerprints of inbound
	// messages with when they were accepted; see Config.Fingerprint.
	Prints      Table[time.Time] `json:"prints"`
	PrintsOld   Table[time.Time] `json:"printsOld"`
	PrintsSince time.Time        `json:"printsSince,omitzero"`
	// Cursor is the position in Avail where round robin resumes; past the
	// last slot after the last bot was chosen, so that a bot added next
	// comes next (round robin wraps to the first). In JSON it counts the
	// bots before that position (see MarshalJSON), and a pool chooses the
	// same bots after a JSON round trip, which drops the tables' holes.
	Cursor int `json:"cursor"`
	// Available counts available bots.
	Available int `json:"available"`
	// Down is true after the last available bot failed, until one recovers.
	Down   bool   `json:"down"`
	EverUp bool   `json:"everUp"`           // a bot was available once
	DownBy uint64 `json:"downBy,omitempty"` // Down changed: tell (pool/FAILED, pool/RECOVERED)
	// Delivered, Failovers and Accepted count sends delivered, attempts
	// after the first, and inbound messages accepted.
	Delivered int `json:"delivered"`
	Failovers int `json:"failovers"`
	Accepted  int `json:"accepted"`
}

// PoolReducer is the pool reducer with the default Config.
func PoolReducer(s Pool, a actions.Action) Pool { return defaultReducer(s, a) }

var defaultReducer = Config{}.Defaults().Reducer()

// Reducer returns the pure reducer of the pool state under c (after
// Defaults; an invalid Config gives undefined timings, so Validate it
// first). It reads time only from Meta.Time and relies on Meta.Seq being
// set before it runs, as the store does.
func (c Config) Reducer() Reducer[Pool] {
	return func(s Pool, a actions.Action) Pool { return c.reduce(s, a) }
}

func (c *Config) reduce(s Pool, a actions.Action) Pool {
	t, seq := a.Meta.Time, a.Meta.Seq
	if a.Meta.Node != "" && !c.admit(s, a) {
		return s // from another process's feed, and stale or our own
	}
	before := s.Available
	switch a.Type {
	case actions.BotAdded.Type():
		p, _ := actions.BotAdded.Match(a)
		if p.Bot == "" || s.Bots.Has(p.Bot) {
			return s
		}
		b := &Bot{ID: p.Bot, Puppet: p.Puppet, NoMedia: KindsOf(p.NoMedia), Reason: "added", LastSeen: t, Since: t}
		b.Due = c.next(b)
		resume := s.resumesAt("")
		s = s.added(b)
		s.follow(resume, p.Bot) // a small table full of holes is compacted on the way
	case actions.BotRemoved.Type():
		p, _ := actions.BotRemoved.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok {
			return s
		}
		if b.Available {
			s.Available--
		}
		s.Selves = selvesMove(s.Selves, b.Self, "")
		s.Deadlines = s.Deadlines.Move(p.Bot, b.Due, time.Time{})
		resume := s.resumesAt(p.Bot)
		s.Bots = s.Bots.Delete(p.Bot)
		s.Avail = s.Avail.Delete(p.Bot)
		s.Rooms = roomsWithout(s.Rooms, p.Bot)
		s = s.forgetBot(p.Bot)
		s.follow(resume, "") // compacting moves the positions
	case actions.Login.Type():
		p, _ := actions.Login.Match(a)
		if b, ok := s.Bots.Get(p.Bot); ok && b.Self != p.Self {
			s.Selves = selvesMove(s.Selves, b.Self, p.Self)
		}
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			b.Self, b.LoggedIn, b.RoomsBy, b.ContactsBy = p.Self, true, seq, seq
			alive(b, t)
			recovered(b)
		})
	case actions.Logout.Type():
		p, _ := actions.Logout.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			b.LoggedIn = false
			if b.Phase == Failed {
				return // a reset's Stop logs the bot out: the failure's reason stands
			}
			unavailable(b, t, "logout: "+p.Reason)
		})
	case actions.Scan.Type():
		p, _ := actions.Scan.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			b.LoggedIn = false
			unavailable(b, t, "scan: waiting for a QR scan")
			if b.Phase != Scanning { // a refreshed QR code does not move the deadline
				b.Phase, b.ScanSince, b.ResetAt, b.Dings = Scanning, t, time.Time{}, 0
			}
		})
	case actions.Message.Type():
		p, _ := actions.Message.Match(a)
		if !s.Bots.Has(p.Bot) {
			return s // a removed bot's late message
		}
		if p.Room != "" {
			// A message from a room shows the bot is in it, perhaps joined
			// since its rooms were listed at login.
			s.Rooms = roomWith(s.Rooms, p.Room, p.Bot, s.Bots)
		}
		s = c.update(s, p.Bot, seq, func(b *Bot) { alive(b, t) })
		if !p.Elsewhere {
			s = c.accept(s, p, t, seq)
		}
	case actions.Heartbeat.Type():
		p, _ := actions.Heartbeat.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			if b.LoggedIn { // a logged-out account's connection proves nothing
				alive(b, t)
			}
		})
	case actions.Dong.Type():
		p, _ := actions.Dong.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			if b.LoggedIn {
				alive(b, t)
				recovered(b)
			}
		})
	case actions.Due.Type():
		p, _ := actions.Due.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) { c.due(b, p.At, t, seq) })
	case actions.ResetDone.Type():
		p, _ := actions.ResetDone.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			if !b.Resetting || p.Attempt != b.Reset || (p.Decision != 0 && p.Decision != b.ResetBy) {
				return // not the reset under way
			}
			b.Resetting = false
			if p.Error != "" && b.Phase == Failed {
				b.Reason = "reset failed: " + p.Error
			}
			if b.Phase == Failed {
				b.ResetAt = t.Add(c.Backoff.Delay(b.Reset+1, unit(c.Seed, b.ID, t, 2)))
			}
		})
	case actions.BotFailed.Type():
		p, _ := actions.BotFailed.Match(a)
		s = c.update(s, p.Bot, seq, func(b *Bot) {
			// The health epic's bot/FAILED is the notice of a flip the
			// reducer made (a scan, a logout, a failure), not an order:
			// failing the bot again would reset a bot whose QR code a
			// human is scanning, or a logged-out one before its silence
			// lasts FailAfter, or one that recovered since.
			if !c.Drives(b) {
				mirrorFailed(b, t, p)
				return
			}
			if b.Phase != Failed && !p.Decided {
				c.fail(b, t, p.Reason)
			}
		})
	case actions.RoomsLearned.Type():
		p, _ := actions.RoomsLearned.Match(a)
		if !s.Bots.Has(p.Bot) {
			return s
		}
		s.Rooms = roomsWithout(s.Rooms, p.Bot)
		for _, r := range p.Rooms {
			s.Rooms = roomWith(s.Rooms, r, p.Bot, s.Bots)
		}
	case actions.ContactsLearned.Type(), actions.ContactAdded.Type(), actions.ContactRemoved.Type():
		s = c.reduceContacts(s, a)
	case actions.SendRequested.Type():
		p, _ := actions.SendRequested.Match(a)
		if p.ID == "" || s.Sends.Has(p.ID) {
			return s
		}
		c.route(&s, newSend(Send{ID: p.ID, To: p.To, Text: p.Text, Since: t, Media: p.Media, Collect: p.Collect}), t, seq)
	case actions.SendRetry.Type():
		p, _ := actions.SendRetry.Match(a)
		if sd, ok := s.Sends.Get(p.ID); ok && sd.Waiting {
			c.route(&s, new(*sd), t, seq)
		}
	case actions.SendResult.Type():
		p, _ := actions.SendResult.Match(a)
		c.result(&s, p, t, seq)
	case actions.SendCanceled.Type():
		p, _ := actions.SendCanceled.Match(a)
		sd, ok := s.Sends.Get(p.ID)
		if !ok || sd.Outcome.Done() || sd.Canceled {
			return s
		}
		n := *sd
		n.Canceled = true
		if n.Waiting && n.Throttled {
			s.end(&n, actions.RateLimited, "the caller's context ended while every bot that can reach "+n.To+" was over its send budget")
		} else if n.Waiting {
			s.end(&n, actions.Canceled, "the caller's context ended while the send waited for a bot")
		} else {
			s.Sends = s.Sends.Set(n.ID, &n)
		}
	case actions.SendCollected.Type():
		p, _ := actions.SendCollected.Match(a)
		sd, at := s.Sends.lookup(p.ID)
		switch {
		case at < 0:
			return s
		case sd.Outcome.Done() || sd.Waiting:
			s.Sends = s.Sends.deleteAt(p.ID, at)
			s.Queue = s.Queue.Delete(p.ID)
		default:
			n := *sd
			n.Orphan, n.Canceled = true, true
			s.Sends = s.Sends.setAt(at, &n)
		}
	case actions.MessageAccepted.Type():
		s.Accepted++
	case actions.Init.Type():
		// The store starts: silence is counted from now for bots added
		// before, so that a pool started long after its bots were added
		// does not fail them all at once.
		for id, b := range s.Bots.All() {
			if b.Phase == Watching && b.LastSeen.Before(t) {
				s = c.update(s, id, seq, func(b *Bot) {
					alive(b, t)
					b.Due = c.next(b)
				})
			}
		}
	case actions.Replaced.Type():
		// Time travel moves the rest of an application's state; the pool's
		// slice is the world outside (puppets that run, messages that
		// left), which no jump can undo: it stays as it was.
		p, _ := actions.Replaced.Match(a)
		if old, ok := p.Prev.(Pool); ok {
			return old
		}
		return s.rebuilt()
	default:
		n, ok := c.cluster(s, a, t, seq)
		if !ok {
			return s
		}
		s = n
	}
	if s.Available != before || (s.Available == 0 && s.EverUp && !s.Down) {
		switch {
		case s.Available > 0:
			s.EverUp = true
			if s.Down {
				s.Down, s.DownBy = false, seq
			}
		case s.EverUp && !s.Down:
			s.Down, s.DownBy = true, seq
		}
	}
	return s
}

// follow keeps round robin where it was across a change of Avail that
// may have moved the positions (a compaction): it resumes at resume (what
// resumesAt said before the change) or, when none followed the cursor,
// past the last bot, at added if it is a bot just added. So the pool
// chooses the same bots whether its tables were compacted or not (as
// after a JSON round trip, which drops every hole).
func (s *Pool) follow(resume, added string) {
	if resume != "" {
		if i := s.Avail.Position(resume); i >= 0 {
			s.Cursor = i
			return
		}
	}
	s.Cursor = s.Avail.Slots()
	if i := s.Avail.Position(added); i >= 0 {
		s.Cursor = i
	}
}

// resumesAt returns the bot at or after the round robin's cursor, other
// than bot, where round robin resumes; "" when none is.
func (s Pool) resumesAt(bot string) string {
	for i := s.Cursor; i < s.Avail.Slots(); i++ {
		if id, _, ok := s.Avail.At(i); ok && id != bot {
			return id
		}
	}
	return ""
}

// update replaces bot id's record with a changed copy and keeps Avail,
// Available and Deadlines in step. An unknown bot leaves s unchanged.
func (c *Config) update(s Pool, id string, seq uint64, f func(*Bot)) Pool {
	old, at := s.Bots.lookup(id)
	if at < 0 {
		return s
	}
	nb := *old
	f(&nb)
	if next := c.next(&nb); next.IsZero() || nb.Due.IsZero() || next.Before(nb.Due) {
		// The clock looks at the bot at its next deadline, or earlier: a
		// deadline that moved later (a sign of life) is found when the
		// old one passes, which spares the Deadlines a change per message.
		nb.Due = next
	}
	if nb.Available != old.Available {
		nb.FlipBy, nb.Since = seq, nb.LastSeen
		if nb.Available {
			s.Available++
		} else {
			s.Available--
			nb.Since = nb.FailedAt
		}
		s.Avail = s.Avail.Set(id, nb.Available)
	}
	if nb == *old {
		return s
	}
	if !nb.Due.Equal(old.Due) {
		s.Deadlines = s.Deadlines.Move(id, old.Due, nb.Due)
	}
	s.Bots = s.Bots.setAt(at, &nb)
	return s
}

// alive records a sign of life.
func alive(b *Bot, t time.Time) {
	b.LastSeen, b.Dings, b.NextDing = t, 0, time.Time{}
}

// recovered makes b available again, ending its failure or QR scan.
func recovered(b *Bot) {
	b.Available, b.Phase, b.Failures, b.Reason = true, Watching, 0, ""
	b.Reset, b.ResetAt, b.Resetting, b.ScanSince, b.FailedAt = 0, time.Time{}, false, time.Time{}, time.Time{}
}

// unavailable takes b out of rotation without failing it: it is still
// watched, and failed when its silence lasts.
func unavailable(b *Bot, t time.Time, reason string) {
	if b.Available || b.FailedAt.IsZero() {
		b.FailedAt = t
	}
	b.Available, b.Reason = false, reason
}

// fail takes b out of rotation and schedules its first reset.
func (c *Config) fail(b *Bot, t time.Time, reason string) {
	unavailable(b, t, reason)
	b.Phase, b.Dings, b.NextDing, b.ScanSince = Failed, 0, time.Time{}, time.Time{}
	b.Reset, b.Resetting = 0, false
	b.ResetAt = t.Add(c.Backoff.Delay(1, unit(c.Seed, b.ID, t, 2)))
}

// dingAt is when b is dinged next, in the Watching phase.
func (c *Config) dingAt(b *Bot) time.Time {
	if b.Dings > 0 {
		return b.NextDing
	}
	return b.LastSeen.Add(jittered(c.DingAfter, c.DingJitter, unit(c.Seed, b.ID, b.LastSeen, 1)))
}

// next is b's next deadline, or zero for none: its heartbeat's, or the
// refill of its send budget when a send waits for it, whichever is first;
// none for a bot this process does not drive.
func (c *Config) next(b *Bot) time.Time {
	if !c.Drives(b) {
		return time.Time{}
	}
	t := c.nextBeat(b)
	if !b.RefillAt.IsZero() && (t.IsZero() || b.RefillAt.Before(t)) {
		return b.RefillAt
	}
	return t
}

// nextBeat is b's next heartbeat deadline, or zero for none.
func (c *Config) nextBeat(b *Bot) time.Time {
	switch b.Phase {
	case Watching:
		fail := b.LastSeen.Add(c.FailAfter)
		if d := c.dingAt(b); d.Before(fail) {
			return d
		}
		return fail
	case Scanning:
		return b.ScanSince.Add(c.ScanTimeout)
	case Failed:
		if b.Resetting {
			return time.Time{}
		}
		return b.ResetAt
	}
	return time.Time{}
}

// due decides what the passing of b's deadline at, seen by the clock,
// means at t.
func (c *Config) due(b *Bot, at, t time.Time, seq uint64) {
	if b.Due.IsZero() || !at.Equal(b.Due) {
		return // the deadline moved since the clock looked
	}
	if t.Before(at) {
		t = at
	}
	if !b.RefillAt.IsZero() && !t.Before(b.RefillAt) {
		b.RefillAt, b.RefillBy = time.Time{}, seq
	}
	switch b.Phase {
	case Watching:
		if !t.Before(b.LastSeen.Add(c.FailAfter)) {
			c.fail(b, t, fmt.Sprintf("no sign of life for %v after %d dings", t.Sub(b.LastSeen), b.Dings))
		} else if !t.Before(c.dingAt(b)) {
			b.Dings++
			b.NextDing, b.DingBy = t.Add(c.DingEvery), seq
		}
	case Scanning:
		if !t.Before(b.ScanSince.Add(c.ScanTimeout)) {
			c.fail(b, t, fmt.Sprintf("no login %v after a QR scan", t.Sub(b.ScanSince)))
		}
	case Failed:
		if !b.Resetting && !b.ResetAt.IsZero() && !t.Before(b.ResetAt) {
			b.Reset++
			b.Resetting, b.ResetAt, b.ResetBy = true, time.Time{}, seq
		}
	}
	b.Due = c.next(b)
}

// accept decides whether an inbound message is new and for the
// application: not the pool's own, not seen before by another bot.
func (c *Config) accept(s Pool, p actions.MessagePayload, t time.Time, seq uint64) Pool {
	if s.Selves.Has(p.From) {
		return s
	}
	key := SeenKey(p.MessageID, seq)
	if s.Seen.Has(key) || s.SeenOld.Has(key) {
		return s
	}
	var dup bool
	if s, dup = c.fingerprinted(s, p, t); dup {
		return s
	}
	if s.SeenSince.IsZero() {
		s.SeenSince = t
	}
	if n := s.Seen.Len(); (n >= c.DedupeSize && t.Sub(s.SeenSince) >= c.DedupeWindow) || n >= seenCap*c.DedupeSize {
		s.SeenOld, s.Seen, s.SeenSince = s.Seen, Table[uint64]{}, t
	}
	s.Seen = s.Seen.Set(key, seq)
	return s
}

// seenCap bounds the memory of the dedupe window: past seenCap×DedupeSize
// IDs remembered, the window turns over however young it is.
const seenCap = 8

// SeenKey is the key under which an inbound message is remembered: its
// ID, or for a message without one the Seq of its action (it is always
// new).
func SeenKey(messageID string, seq uint64) string {
	if messageID != "" {
		return messageID
	}
	return "#" + strconv.FormatUint(seq, 10)
}

// AcceptedBy returns the Seq of the action that accepted the message
// remembered under key, or 0.
func (s Pool) AcceptedBy(key string) uint64 {
	if v, ok := s.Seen.Get(key); ok {
		return v
	}
	v, _ := s.SeenOld.Get(key)
	return v
}

func selvesMove(t Table[int], from, to string) Table[int] {
	if from == to {
		return t
	}
	if from != "" {
		if n, _ := t.Get(from); n <= 1 {
			t = t.Delete(from)
		} else {
			t = t.Set(from, n-1)
		}
	}
	if to != "" {
		n, _ := t.Get(to)
		t = t.Set(to, n+1)
	}
	return t
}

func roomsWithout(rooms Table[[]string], bot string) Table[[]string] {
	for id, bots := range rooms.All() {
		if i := slices.Index(bots, bot); i >= 0 {
			nb := slices.Delete(slices.Clone(bots), i, i+1)
			if len(nb) == 0 {
				rooms = rooms.Delete(id)
			} else {
				rooms = rooms.Set(id, nb)
			}
		}
	}
	return rooms
}

// roomWith adds bot to room, keeping the room's bots in pool order.
func roomWith(rooms Table[[]string], room, bot string, all Table[*Bot]) Table[[]string] {
	if room == "" {
		return rooms
	}
	bots, _ := rooms.Get(room)
	if slices.Contains(bots, bot) {
		return rooms
	}
	nb := append(slices.Clone(bots), bot)
	slices.SortFunc(nb, func(x, y string) int { return all.Position(x) - all.Position(y) })
	return rooms.Set(room, nb)
}
