package reducers

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalJSON encodes a Pool. The JSON of a Table has no room for the
// positions freed by removed bots, so the cursor is written as a position
// among the bots present: the number of them before the cursor. The
// fields derived from Bots (Avail, Selves, Deadlines) are left out and
// rebuilt by UnmarshalJSON.
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
// so that a state sent back by DevTools, or handed over by another
// process, is consistent.
func (s *Pool) UnmarshalJSON(data []byte) error {
	type plain Pool
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("reducers: pool: %w", err)
	}
	for id, b := range p.Bots.All() {
		if b == nil {
			return fmt.Errorf("reducers: pool: bot %q is null", id)
		}
		if b.ID != id {
			return fmt.Errorf("reducers: pool: bot %q has the ID %q", id, b.ID)
		}
	}
	for id, sd := range p.Sends.All() {
		if sd == nil {
			return fmt.Errorf("reducers: pool: send %q is null", id)
		}
	}
	*s = Pool(p).rebuilt()
	return nil
}

// rebuilt returns s with the fields derived from Bots made anew, and
// Sent in Bots' order (a count for a bot not in Bots is dropped).
func (s Pool) rebuilt() Pool {
	sent := s.Sent
	s.Avail, s.Sent, s.Selves, s.Deadlines, s.Available = Table[bool]{}, Table[int]{}, Table[int]{}, Deadlines{}, 0
	for id, b := range s.Bots.All() {
		s.Avail = s.Avail.Set(id, b.Available)
		n, _ := sent.Get(id)
		s.Sent = s.Sent.Set(id, n)
		if b.Available {
			s.Available++
		}
		s.Selves = selvesMove(s.Selves, "", b.Self)
		s.Deadlines = s.Deadlines.Move(id, time.Time{}, b.Due)
	}
	return s
}

// added returns s with b, a bot it did not have, in Bots, Avail and Sent:
// the three hold every bot at the same position (Send.slot), as they are
// changed together (added, and forgetBot's callers) and rebuilt together.
func (s Pool) added(b *Bot) Pool {
	s.Bots = s.Bots.Set(b.ID, b)
	s.Avail = s.Avail.Set(b.ID, false)
	s.Sent = s.Sent.Set(b.ID, 0)
	s.Deadlines = s.Deadlines.Move(b.ID, time.Time{}, b.Due)
	return s
}

// botAt returns bot's record and its position in Bots, looking at
// position hint first (a Send's slot): Bots, Avail and Sent keep every bot
// at one position, and a read at a known position costs no key lookup.
func (s *Pool) botAt(bot string, hint int) (*Bot, int) {
	if id, b, ok := s.Bots.At(hint); ok && id == bot {
		return b, hint
	}
	b, at := s.Bots.lookup(bot)
	return b, at
}

// SendBot returns the record of the bot of sd's current or last attempt
// (Send.Bot), when the pool has it.
func (s Pool) SendBot(sd *Send) (*Bot, bool) {
	b, at := s.botAt(sd.Bot, int(sd.slot))
	return b, at >= 0
}

// MarshalJSON encodes an End as the send's record with its end in place,
// as the record of a send that ended reads: no attempt under way
// (RoutedBy) and no wait for a bot (Waiting), which the shared record of
// the last attempt may still say.
func (e End) MarshalJSON() ([]byte, error) {
	var sd Send
	if e.Send != nil {
		sd = *e.Send
	}
	sd.Outcome, sd.Error, sd.Node, sd.Waiting, sd.RoutedBy = e.Outcome, e.Error, e.Node, false, 0
	return json.Marshal(&sd)
}

// UnmarshalJSON decodes an End from a send's record: the End always has
// one (a JSON object without the send's fields gives an empty record).
func (e *End) UnmarshalJSON(data []byte) error {
	var sd Send
	if err := json.Unmarshal(data, &sd); err != nil {
		return fmt.Errorf("reducers: ended send: %w", err)
	}
	*e = End{Send: &sd, Outcome: sd.Outcome, Error: sd.Error, Node: sd.Node}
	return nil
}
