package reducers

import (
	"fmt"
	"slices"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// route gives sd its next attempt: the bot chosen by round robin (or
// affinity) among the available bots that can reach its target and were
// not tried. With none, the send waits (WaitForBot, before any attempt)
// or ends with NoBot.
func (c Config) route(s Pool, sd *Send, seq uint64) Pool {
	exclude := func(b string) bool { return slices.Contains(sd.Tried, b) }
	var bot string
	var ok bool
	if c.Affinity {
		bot, ok = AffinityBot(s, sd.To, exclude)
	} else {
		bot, ok = NextBot(s, sd.To, exclude)
	}
	switch {
	case ok:
		sd.Bot, sd.Waiting, sd.RoutedBy = bot, false, seq
		sd.Attempt++
		if sd.Attempt > 1 {
			s.Failovers++
		}
		if i := s.Avail.Position(bot); i >= 0 {
			s.Cursor = i + 1
			if s.Cursor >= s.Avail.Slots() {
				s.Cursor = 0
			}
		}
		s.Queue = s.Queue.Delete(sd.ID)
		s.Sends = s.Sends.Set(sd.ID, sd)
	case c.WaitForBot && sd.Attempt == 0 && !sd.Canceled:
		if !sd.Waiting {
			sd.Waiting = true
			s.Queue = s.Queue.Set(sd.ID, true)
			s.Sends = s.Sends.Set(sd.ID, sd)
		}
	default:
		s = s.end(sd, actions.NoBot, "no available bot can reach "+sd.To)
	}
	return s
}

// end ends sd with an outcome. An orphan (its caller stopped waiting) is
// forgotten at once; any other send stays until its caller collects it.
func (s Pool) end(sd *Send, o actions.Outcome, detail string) Pool {
	sd.Outcome, sd.Error, sd.Waiting, sd.RoutedBy = o, detail, false, 0
	s.Queue = s.Queue.Delete(sd.ID)
	if o == actions.Delivered {
		s.Delivered++
	}
	if sd.Orphan {
		s.Sends = s.Sends.Delete(sd.ID)
		return s
	}
	s.Sends = s.Sends.Set(sd.ID, sd)
	return s
}

// result reduces the end of one attempt: the bot's record first (a result
// is the truth about the bot whatever became of the send), then the send:
// delivered, retried on another bot when certainly not sent, or ended.
func (c Config) result(s Pool, p actions.SendResultPayload, t time.Time, seq uint64) Pool {
	s = c.update(s, p.Bot, seq, func(b *Bot) {
		if !c.Drives(b) {
			return // its owner counts the attempts it makes
		}
		switch p.Outcome {
		case actions.Delivered:
			b.Sent++
			b.Failures = 0
		case actions.NotSent, actions.Unknown:
			if p.CallerGone {
				return
			}
			b.Failures++
			if b.Available && c.EjectAfter > 0 && b.Failures >= c.EjectAfter {
				c.fail(b, t, fmt.Sprintf("%d consecutive failed sends", b.Failures))
			}
		case actions.Permanent:
			// A bot that left a room fails there for good: list its rooms
			// again, so that the next send goes to a member.
			b.RoomsBy = seq
		}
	})
	old, ok := s.Sends.Get(p.ID)
	if !ok || old.Outcome.Done() || old.Attempt != p.Attempt || old.Bot != p.Bot {
		return s // not this send's current attempt
	}
	sd := *old
	sd.Node = p.Node
	gone := p.CallerGone || sd.Canceled
	switch p.Outcome {
	case actions.Delivered:
		return s.end(&sd, actions.Delivered, "")
	case actions.NotSent:
		if gone {
			return s.end(&sd, actions.Canceled, p.Error)
		}
		sd.Tried = append(slices.Clone(sd.Tried), p.Bot)
		sd.Error = p.Error
		return c.route(s, &sd, seq)
	case actions.Permanent:
		return s.end(&sd, actions.Permanent, p.Error)
	default:
		if gone {
			return s.end(&sd, actions.Abandoned, p.Error)
		}
		return s.end(&sd, actions.Unknown, p.Error)
	}
}

// NextBot chooses the bot for a send to target by round robin: the first
// available bot at or after the pool's cursor that can reach target and is
// not excluded. A target that is a known room is reachable only by the
// bots in it; any other target (a contact) by every bot. It returns false
// when no bot qualifies.
func NextBot(s Pool, target string, exclude func(bot string) bool) (string, bool) {
	if members, isRoom := s.Rooms.Get(target); isRoom {
		return firstEligible(s, members, exclude, s.Cursor)
	}
	n := s.Avail.Slots()
	if n == 0 || s.Available == 0 {
		return "", false
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
		if ok && up && (exclude == nil || !exclude(id)) {
			return id, true
		}
	}
	return "", false
}

// firstEligible returns the first eligible room member (members are in
// pool order) at or after cursor, wrapping around to the first eligible one.
func firstEligible(s Pool, members []string, exclude func(string) bool, cursor int) (string, bool) {
	fallback := ""
	for _, id := range members {
		up, _ := s.Avail.Get(id)
		if !up || (exclude != nil && exclude(id)) {
			continue
		}
		if s.Avail.Position(id) >= cursor {
			return id, true
		}
		if fallback == "" {
			fallback = id
		}
	}
	return fallback, fallback != ""
}

// AffinityBot chooses a bot for a conversation by rendezvous hashing: the
// eligible bot with the highest Rendezvous score. The choice stays with
// one bot while it is available, in every process and across restarts,
// and moves only when it fails; other bots failing, recovering or joining
// move a conversation only to a bot that scores higher than its own, and
// never back and forth. Cost: one hash per available bot that can reach
// the conversation.
func AffinityBot(s Pool, conversation string, exclude func(bot string) bool) (string, bool) {
	best, bestScore := "", uint64(0)
	consider := func(id string) {
		if exclude != nil && exclude(id) {
			return
		}
		if sc := Rendezvous(conversation, id); best == "" || sc > bestScore {
			best, bestScore = id, sc
		}
	}
	if members, isRoom := s.Rooms.Get(conversation); isRoom {
		for _, id := range members {
			if up, _ := s.Avail.Get(id); up {
				consider(id)
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
