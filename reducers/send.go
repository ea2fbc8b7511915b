package reducers

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// route gives sd its next attempt: the bot chosen by round robin (or
// affinity) among the available bots that can reach its target (see
// Reaches), were not tried, and have a send left in their budget (see
// Config.RateLimit). When bots could send but all are over budget, the
// send waits, and the bot whose budget refills first is due then (its
// RefillAt). With no bot at all, the send waits (WaitForBot, before any
// attempt) or ends: Unreachable when every attempt was refused as not a
// friend, else NoBot.
func (c *Config) route(s *Pool, sd *Send, t time.Time, seq uint64) {
	tried := func(b string) bool { return slices.Contains(sd.Tried, b) || !s.carries(b, sd.Media) }
	var last budget
	spent := func(b string) bool { return tried(b) || !c.canSend(*s, b, t, &last) }
	var bot string
	var ok bool
	pos := -1
	if c.Affinity {
		*s, bot, ok = c.stick(*s, sd.To, tried, spent)
		if ok {
			pos = s.Avail.Position(bot)
		}
	} else {
		bot, pos, ok = nextBot(s, sd.To, spent)
	}
	if ok {
		*s = c.spend(*s, bot, t, last)
		sd.Bot, sd.Waiting, sd.Throttled, sd.RoutedBy, sd.slot = bot, false, false, seq, int32(min(pos, math.MaxInt32))
		sd.Attempt++
		if sd.Attempt > 1 {
			s.Failovers++
		}
		if i := pos; i >= 0 {
			// Past the last slot stays past it (roundRobin wraps): a bot
			// added next comes next, whether or not holes end the table.
			s.Cursor = i + 1
		}
		s.Queue = s.Queue.Delete(sd.ID)
		s.Sends = s.Sends.Set(sd.ID, sd)
		return
	}
	// Bots that could send but for their budget: wait for the first refill.
	first, at := "", time.Time{}
	if !c.RateLimit.Off() && !sd.Canceled {
		NextBot(*s, sd.To, func(b string) bool {
			if !tried(b) {
				if r := c.refillAt(*s, b, t); first == "" || r.Before(at) {
					first, at = b, r
				}
			}
			return true
		})
	}
	switch {
	case first != "":
		*s = c.update(*s, first, seq, func(b *Bot) {
			if b.RefillAt.IsZero() || at.Before(b.RefillAt) {
				b.RefillAt = at
			}
		})
		sd.Waiting, sd.Throttled, sd.RoutedBy = true, true, 0
		s.Queue = s.Queue.Set(sd.ID, true)
		s.Sends = s.Sends.Set(sd.ID, sd)
	case c.WaitForBot && sd.Attempt == 0 && !sd.Canceled:
		if !sd.Waiting || sd.Throttled {
			sd.Waiting, sd.Throttled = true, false
			s.Queue = s.Queue.Set(sd.ID, true)
			s.Sends = s.Sends.Set(sd.ID, sd)
		}
	case sd.Media != nil && !s.anyCarries(sd.Media):
		s.end(sd, actions.Permanent, fmt.Sprintf("unsupported: no bot of the pool can send %s (their puppets lack the capability)", sd.Media.Kind))
	case sd.Attempt > 0 && sd.Refusals == sd.Attempt:
		s.end(sd, actions.Unreachable, fmt.Sprintf("no bot can reach %s: %d refused it as not a friend (%s)", sd.To, sd.Refusals, sd.Error))
	default:
		s.end(sd, actions.NoBot, "no available bot can reach "+sd.To)
	}
}

// stick is the affinity choice for conversation: the bot it sticks to
// while that bot is available, reaches it and was not tried for this
// send; a bot over its send budget lends the send to the bot Rendezvous
// chooses among those with budget, and the conversation stays. Otherwise
// (a first send, or a bot that can no longer serve) Rendezvous chooses
// among the eligible bots, and the conversation moves there for good.
func (c *Config) stick(s Pool, conversation string, tried, spent func(string) bool) (Pool, string, bool) {
	cur, ok := s.Sticky.Get(conversation)
	fresh := ok
	if !ok {
		cur, ok = s.StickyOld.Get(conversation)
	}
	if ok && !tried(cur) && serves(s, conversation, cur) {
		if !spent(cur) {
			if !fresh {
				s = c.remember(s, conversation, cur)
			}
			return s, cur, true
		}
		bot, found := AffinityBot(s, conversation, spent)
		return s, bot, found
	}
	bot, found := AffinityBot(s, conversation, spent)
	if found {
		s = c.remember(s, conversation, bot)
	}
	return s, bot, found
}

// serves reports whether bot is available and reaches target.
func serves(s Pool, target, bot string) bool {
	up, _ := s.Avail.Get(bot)
	return up && Reaches(s, target, bot)
}

// remember records conversation's bot in the young generation of
// Pool.Sticky, turning the generations over when it is full.
func (c *Config) remember(s Pool, conversation, bot string) Pool {
	if s.Sticky.Len() >= c.AffinitySize && !s.Sticky.Has(conversation) {
		s.StickyOld, s.Sticky = s.Sticky, Table[string]{}
	}
	s.Sticky = s.Sticky.Set(conversation, bot)
	return s
}

// ConversationBot is the bot affinity chooses for conversation's next
// send now, send budgets aside: the bot it sticks to while that bot is
// available and reaches it, else AffinityBot's choice.
func ConversationBot(s Pool, conversation string) (string, bool) {
	if b, ok := s.StickyBot(conversation); ok && serves(s, conversation, b) {
		return b, true
	}
	return AffinityBot(s, conversation, nil)
}

// StickyBot returns the bot conversation sticks to under affinity, if any.
func (s Pool) StickyBot(conversation string) (string, bool) {
	if b, ok := s.Sticky.Get(conversation); ok {
		return b, true
	}
	return s.StickyOld.Get(conversation)
}

// end ends sd with an outcome. An orphan (its caller stopped waiting) is
// forgotten at once; any other send stays until its caller collects it.
func (s *Pool) end(sd *Send, o actions.Outcome, detail string) {
	_, at := s.Sends.lookup(sd.ID)
	s.endAt(sd, at, o, detail)
}

// endAt is end for a send whose position in s.Sends is at (-1 for none).
// sd is the reducer's own record, which it changes, unless it is
// collected as it ends (Collect): then it is only read, and may be the
// record the state holds.
func (s *Pool) endAt(sd *Send, at int, o actions.Outcome, detail string) {
	s.Queue = s.Queue.Delete(sd.ID)
	if o == actions.Delivered {
		s.Delivered++
	}
	if sd.Collect {
		s.Sends = s.Sends.deleteAt(sd.ID, at)
		s.Ended = &End{Send: withoutBytes(sd), Outcome: o, Error: detail, Node: sd.Node}
		return
	}
	sd.Outcome, sd.Error, sd.Waiting, sd.RoutedBy = o, detail, false, 0
	switch {
	case sd.Orphan:
		s.Sends = s.Sends.deleteAt(sd.ID, at)
	case at >= 0:
		s.Sends = s.Sends.setAt(at, sd)
	default:
		s.Sends = s.Sends.Set(sd.ID, sd)
	}
}

// withoutBytes is sd, or a copy of it without its file's bytes when it
// carries a file in memory: Pool.Ended keeps the last send that ended
// until another one does, and a file's bytes would stay in memory that
// long (its Size says how big it was).
func withoutBytes(sd *Send) *Send {
	if sd.Media == nil || sd.Media.File == nil || sd.Media.File.Data == nil {
		return sd
	}
	m, f := *sd.Media, *sd.Media.File
	f.Data = nil
	m.File = &f
	n := *sd
	n.Media = &m
	return &n
}

// result reduces the end of one attempt: the bot's record first (a result
// is the truth about the bot whatever became of the send), then the send:
// delivered, retried on another bot when certainly not sent, or ended.
func (c *Config) result(s *Pool, p actions.SendResultPayload, t time.Time, seq uint64) {
	old, at := s.Sends.lookup(p.ID)
	hint := -1
	if at >= 0 && old.Bot == p.Bot {
		hint = int(old.slot)
	}
	if b, bi := s.botAt(p.Bot, hint); b != nil && c.Drives(b) { // its owner counts the attempts another process makes
		switch {
		case p.Outcome == actions.Delivered:
			if id, n, ok := s.Sent.At(bi); ok && id == p.Bot {
				s.Sent = s.Sent.setAt(bi, n+1)
			} else if n, at := s.Sent.lookup(p.Bot); at >= 0 {
				s.Sent = s.Sent.setAt(at, n+1)
			} else {
				s.Sent = s.Sent.Set(p.Bot, 1)
			}
			if b.Failures > 0 {
				*s = c.update(*s, p.Bot, seq, func(b *Bot) { b.Failures = 0 })
			}
		case (p.Outcome == actions.NotSent || p.Outcome == actions.Unknown) && !p.CallerGone:
			*s = c.update(*s, p.Bot, seq, func(b *Bot) {
				b.Failures++
				if b.Available && c.EjectAfter > 0 && b.Failures >= c.EjectAfter {
					c.fail(b, t, fmt.Sprintf("%d consecutive failed sends", b.Failures))
				}
			})
		case p.Outcome == actions.Permanent:
			// A bot that left a room fails there for good: list its rooms
			// again, so that the next send goes to a member.
			*s = c.update(*s, p.Bot, seq, func(b *Bot) { b.RoomsBy = seq })
		}
	}
	if at >= 0 && p.Outcome == actions.Unreachable && s.Bots.Has(p.Bot) {
		*s = s.refused(old.To, p.Bot) // true of the bot whatever became of the send
	}
	if at < 0 || old.Outcome.Done() || old.Attempt != p.Attempt || old.Bot != p.Bot {
		return // not this send's current attempt
	}
	if p.Outcome == actions.Delivered && old.Collect && old.Node == p.Node {
		// Its end is a record of its own, beside the send's: no copy.
		s.endAt(old, at, actions.Delivered, "")
		return
	}
	sd := newSend(*old)
	sd.Node = p.Node
	gone := p.CallerGone || sd.Canceled
	switch p.Outcome {
	case actions.Delivered:
		s.endAt(sd, at, actions.Delivered, "")
	case actions.NotSent, actions.Unreachable:
		if gone {
			s.end(sd, actions.Canceled, p.Error)
			return
		}
		sd.Tried = append(slices.Clone(sd.Tried), p.Bot)
		sd.Error = p.Error
		if p.Outcome == actions.Unreachable {
			sd.Refusals++
		}
		c.route(s, sd, t, seq)
	case actions.Permanent:
		s.end(sd, actions.Permanent, p.Error)
	default:
		if gone {
			s.end(sd, actions.Abandoned, p.Error)
			return
		}
		s.end(sd, actions.Unknown, p.Error)
	}
}

// NextBot chooses the bot for a send to target by round robin: the first
// available bot at or after the pool's cursor that reaches target (see
// Reaches) and is not excluded. Among a contact's bots, those that listed
// it come first; bots whose contacts could not be listed are tried only
// when none of those qualifies. It returns false when no bot qualifies.
// Send budgets are the caller's to exclude.
func NextBot(s Pool, target string, exclude func(bot string) bool) (string, bool) {
	b, _, ok := nextBot(&s, target, exclude)
	return b, ok
}

// nextBot is NextBot, which also returns the bot's position in s.Avail.
func nextBot(s *Pool, target string, exclude func(bot string) bool) (string, int, bool) {
	refused, _ := s.Unreachable.Get(target)
	ex := func(b string) bool { return slices.Contains(refused, b) || (exclude != nil && exclude(b)) }
	if members, isRoom := s.Rooms.Get(target); isRoom {
		return firstEligible(s, members, ex, s.Cursor)
	}
	if knowers, known := s.Contacts.Get(target); known {
		if b, i, ok := firstEligible(s, knowers, ex, s.Cursor); ok {
			return b, i, true
		}
		return roundRobin(s, func(b string) bool { return listed(s, b) || ex(b) })
	}
	return roundRobin(s, ex)
}

// listed reports whether bot's contacts were listed.
func listed(s *Pool, bot string) bool {
	b, ok := s.Bots.Get(bot)
	return ok && b.Listed
}

// roundRobin returns the first available bot at or after the cursor that
// is not excluded, and its position in s.Avail.
func roundRobin(s *Pool, exclude func(string) bool) (string, int, bool) {
	n := s.Avail.Slots()
	if n == 0 || s.Available == 0 {
		return "", -1, false
	}
	start := s.Cursor
	if start >= n {
		start = 0
	}
	for k := range n {
		i := start + k
		if i >= n {
			i -= n
		}
		id, up, ok := s.Avail.At(i)
		if ok && up && !exclude(id) {
			return id, i, true
		}
	}
	return "", -1, false
}

// firstEligible returns the first eligible member (members are in pool
// order) at or after cursor, wrapping around to the first eligible one,
// and its position in s.Avail.
func firstEligible(s *Pool, members []string, exclude func(string) bool, cursor int) (string, int, bool) {
	fallback, fpos := "", -1
	for _, id := range members {
		up, i := s.Avail.lookup(id)
		if !up || exclude(id) {
			continue
		}
		if i >= cursor {
			return id, i, true
		}
		if fallback == "" {
			fallback, fpos = id, i
		}
	}
	return fallback, fpos, fallback != ""
}

// AffinityBot chooses a bot for a conversation by rendezvous hashing: the
// eligible bot (available, reaching the conversation as NextBot says, not
// excluded) with the highest Rendezvous score. The hash is fixed, so
// every process and every run agrees. It is the choice for a
// conversation's first send; the reducer then keeps the conversation on
// that bot (Pool.Sticky) until it can no longer serve it. Cost: one hash
// per eligible bot.
func AffinityBot(s Pool, conversation string, exclude func(bot string) bool) (string, bool) {
	refused, _ := s.Unreachable.Get(conversation)
	best, bestScore := "", uint64(0)
	consider := func(id string) {
		if up, _ := s.Avail.Get(id); !up || slices.Contains(refused, id) || (exclude != nil && exclude(id)) {
			return
		}
		if sc := Rendezvous(conversation, id); best == "" || sc > bestScore {
			best, bestScore = id, sc
		}
	}
	if members, isRoom := s.Rooms.Get(conversation); isRoom {
		for _, id := range members {
			consider(id)
		}
	} else if knowers, known := s.Contacts.Get(conversation); known {
		for _, id := range knowers {
			consider(id)
		}
		if best == "" {
			for id, up := range s.Avail.All() {
				if up && !listed(&s, id) {
					consider(id)
				}
			}
		}
	} else {
		for id, up := range s.Avail.All() {
			if up {
				consider(id)
			}
		}
	}
	return best, best != ""
}

// carries reports whether bot's puppet can send m (nil: text, which every
// puppet sends). A bot the pool does not know carries nothing.
func (s Pool) carries(bot string, m *actions.Media) bool {
	if m == nil {
		return true
	}
	b, ok := s.Bots.Get(bot)
	return ok && !b.NoMedia.Has(m.Kind)
}

// anyCarries reports whether some bot of the pool, available or not, can
// send m: when none can, a send of m fails at once as unsupported rather
// than waiting for a bot.
func (s Pool) anyCarries(m *actions.Media) bool {
	for _, b := range s.Bots.All() {
		if !b.NoMedia.Has(m.Kind) {
			return true
		}
	}
	return false
}

// MediaKinds is a set of media kinds, written as their names sorted and
// joined by commas ("file,image"), so that a Bot stays comparable with ==.
type MediaKinds string

// KindsOf returns the set of kinds.
func KindsOf(kinds []actions.MediaKind) MediaKinds {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if k != actions.MediaText && !slices.Contains(names, string(k)) {
			names = append(names, string(k))
		}
	}
	slices.Sort(names)
	return MediaKinds(strings.Join(names, ","))
}

// Has reports whether k is in the set.
func (ks MediaKinds) Has(k actions.MediaKind) bool {
	for name := range strings.SplitSeq(string(ks), ",") {
		if name != "" && name == string(k) {
			return true
		}
	}
	return false
}
