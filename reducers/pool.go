package reducers

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hawechaty/hawechaty/actions"
)

// Bot is the pool's record of one bot. Records are immutable once in a
// Pool: the reducer replaces a changed record with a new one.
type Bot struct {
	ID        string    `json:"id"`
	Puppet    string    `json:"puppet"`
	Self      string    `json:"self,omitempty"`
	LoggedIn  bool      `json:"loggedIn"`
	Available bool      `json:"available"`
	LastSeen  time.Time `json:"lastSeen,omitzero"` // last sign of life: login, message, heartbeat, dong
	Dings     int       `json:"dings"`             // dings sent since the last sign of life
	Sent      int       `json:"sent"`              // messages delivered
	Failures  int       `json:"failures"`          // consecutive failed sends
	Resets    int       `json:"resets"`            // reset attempts since the bot failed
	FailedAt  time.Time `json:"failedAt,omitzero"`
	Reason    string    `json:"reason,omitempty"` // why the bot is unavailable
}

// Pool is the state of a pool of bots.
type Pool struct {
	// Bots holds every bot, in the order they were added.
	Bots Table[*Bot] `json:"bots"`
	// Avail mirrors Bots.Available and changes only when a bot's
	// availability flips, so selectors keyed on it stay cached while
	// messages stream in.
	Avail Table[bool] `json:"-"`
	// Rooms maps a room ID to the bots in it, in pool order.
	Rooms Table[[]string] `json:"rooms"`
	// Cursor is the position in Avail where round robin resumes. In JSON it
	// counts the bots before that position (see MarshalJSON).
	Cursor int `json:"cursor"`
	// Available counts available bots.
	Available int `json:"available"`
	// Down is true after the last available bot failed, until one recovers.
	Down bool `json:"down"`
	// Delivered and Failovers count sends through the pool.
	Delivered int `json:"delivered"`
	Failovers int `json:"failovers"`
}

// Outcome strings used in send payloads.
const (
	OutcomeDelivered = "delivered"
	OutcomeNotSent   = "not sent"
	OutcomeUnknown   = "outcome unknown"
	OutcomePermanent = "permanent"
	OutcomeNoBot     = "no bot" // no available bot could reach the target
	// OutcomeCanceled: the caller's context ended before the message was
	// sent (before a bot was picked, while waiting for one, or during an
	// attempt the puppet says was not sent). Not the bot's failure.
	OutcomeCanceled = "canceled"
	// OutcomeAbandoned: the caller's context ended during an attempt whose
	// outcome is unknown; the message may have been delivered. Not the
	// bot's failure, and never retried.
	OutcomeAbandoned = "abandoned"
)

// PoolReducer is the pure reducer of the pool state.
func PoolReducer(s Pool, a actions.Action) Pool {
	t := a.Meta.Time
	switch a.Type {
	case actions.BotAdded.Type():
		p, _ := actions.BotAdded.Match(a)
		if p.Bot == "" || s.Bots.Has(p.Bot) {
			return s
		}
		s.Bots = s.Bots.Set(p.Bot, &Bot{ID: p.Bot, Puppet: p.Puppet, Reason: "added"})
		s.Avail = s.Avail.Set(p.Bot, false)
	case actions.BotRemoved.Type():
		p, _ := actions.BotRemoved.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok {
			return s
		}
		if b.Available {
			s.Available--
		}
		s.Bots = s.Bots.Delete(p.Bot)
		s.Avail = s.Avail.Delete(p.Bot)
		s.Rooms = roomsWithout(s.Rooms, p.Bot)
		if s.Cursor > s.Avail.Slots() {
			s.Cursor = 0
		}
	case actions.Login.Type():
		p, _ := actions.Login.Match(a)
		return s.update(p.Bot, func(b Bot) Bot {
			b.Self, b.LoggedIn, b.LastSeen, b.Dings = p.Self, true, t, 0
			return recovered(b)
		})
	case actions.Logout.Type():
		p, _ := actions.Logout.Match(a)
		return s.update(p.Bot, func(b Bot) Bot {
			b.LoggedIn = false
			return failed(b, t, "logout: "+p.Reason)
		})
	case actions.Scan.Type():
		p, _ := actions.Scan.Match(a)
		return s.update(p.Bot, func(b Bot) Bot {
			b.LoggedIn = false
			return failed(b, t, "scan: waiting for a QR scan")
		})
	case actions.Message.Type():
		p, _ := actions.Message.Match(a)
		if p.Room != "" && s.Bots.Has(p.Bot) {
			// A message from a room shows the bot is in it, perhaps joined
			// since its rooms were listed at login.
			s.Rooms = roomWith(s.Rooms, p.Room, p.Bot, s.Bots)
		}
		return s.update(p.Bot, func(b Bot) Bot { b.LastSeen, b.Dings = t, 0; return b })
	case actions.Heartbeat.Type():
		p, _ := actions.Heartbeat.Match(a)
		return s.update(p.Bot, func(b Bot) Bot { b.LastSeen, b.Dings = t, 0; return b })
	case actions.Ding.Type():
		p, _ := actions.Ding.Match(a)
		return s.update(p.Bot, func(b Bot) Bot { b.Dings++; return b })
	case actions.Dong.Type():
		p, _ := actions.Dong.Match(a)
		return s.update(p.Bot, func(b Bot) Bot {
			b.LastSeen, b.Dings = t, 0
			if !b.LoggedIn {
				return b
			}
			return recovered(b)
		})
	case actions.BotFailed.Type():
		p, _ := actions.BotFailed.Match(a)
		return s.update(p.Bot, func(b Bot) Bot { return failed(b, t, p.Reason) })
	case actions.ResetStarted.Type():
		p, _ := actions.ResetStarted.Match(a)
		return s.update(p.Bot, func(b Bot) Bot { b.Resets = p.Attempt; return b })
	case actions.ResetFailed.Type():
		p, _ := actions.ResetFailed.Match(a)
		return s.update(p.Bot, func(b Bot) Bot { b.Reason = "reset failed: " + p.Error; return b })
	case actions.RoomsLearned.Type():
		p, _ := actions.RoomsLearned.Match(a)
		if !s.Bots.Has(p.Bot) {
			return s
		}
		s.Rooms = roomsWithout(s.Rooms, p.Bot)
		for _, r := range p.Rooms {
			s.Rooms = roomWith(s.Rooms, r, p.Bot, s.Bots)
		}
	case actions.SendRouted.Type():
		p, _ := actions.SendRouted.Match(a)
		if i := s.Avail.Position(p.Bot); i >= 0 {
			s.Cursor = i + 1
			if s.Cursor >= s.Avail.Slots() {
				s.Cursor = 0
			}
		}
		if p.Attempt > 1 {
			s.Failovers++
		}
	case actions.SendResult.Type():
		p, _ := actions.SendResult.Match(a)
		return s.update(p.Bot, func(b Bot) Bot {
			switch p.Outcome {
			case OutcomeDelivered:
				b.Sent++
				b.Failures = 0
			case OutcomeNotSent, OutcomeUnknown:
				b.Failures++
			}
			return b
		})
	case actions.SendDone.Type():
		p, _ := actions.SendDone.Match(a)
		if p.Outcome == OutcomeDelivered {
			s.Delivered++
		}
	case actions.PoolFailed.Type():
		s.Down = true
	case actions.PoolRecovered.Type():
		s.Down = false
	default:
		return s
	}
	return s
}

func recovered(b Bot) Bot {
	b.Available, b.Failures, b.Resets, b.Reason = true, 0, 0, ""
	b.FailedAt = time.Time{}
	return b
}

func failed(b Bot, t time.Time, reason string) Bot {
	if b.Available || b.FailedAt.IsZero() {
		b.FailedAt = t
	}
	b.Available, b.Reason = false, reason
	return b
}

// update replaces bot id's record with f(copy) and keeps Avail and
// Available in step. An unknown bot leaves s unchanged.
func (s Pool) update(id string, f func(Bot) Bot) Pool {
	old, ok := s.Bots.Get(id)
	if !ok {
		return s
	}
	nb := f(*old)
	if nb == *old {
		return s
	}
	s.Bots = s.Bots.Set(id, &nb)
	if nb.Available != old.Available {
		s.Avail = s.Avail.Set(id, nb.Available)
		if nb.Available {
			s.Available++
		} else {
			s.Available--
		}
	}
	return s
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

// MarshalJSON encodes a Pool. The JSON of a Table has no room for the
// positions freed by removed bots, so the cursor is written as a position
// among the bots present: the number of them before the cursor.
func (s Pool) MarshalJSON() ([]byte, error) {
	type plain Pool
	p := plain(s)
	p.Cursor = 0
	for i := range min(s.Cursor, s.Avail.Slots()) {
		if _, _, ok := s.Avail.At(i); ok {
			p.Cursor++
		}
	}
	return json.Marshal(p)
}

// UnmarshalJSON decodes a Pool and rebuilds the fields derived from Bots,
// so that a state sent back by DevTools is consistent.
func (s *Pool) UnmarshalJSON(data []byte) error {
	type plain Pool
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("reducers: pool: %w", err)
	}
	out := Pool(p)
	out.Avail, out.Available = Table[bool]{}, 0
	for id, b := range out.Bots.All() {
		if b == nil {
			return fmt.Errorf("reducers: pool: bot %q is null", id)
		}
		out.Avail = out.Avail.Set(id, b.Available)
		if b.Available {
			out.Available++
		}
	}
	*s = out
	return nil
}
