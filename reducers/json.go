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

// rebuilt returns s with the fields derived from Bots made anew.
func (s Pool) rebuilt() Pool {
	s.Avail, s.Selves, s.Deadlines, s.Available = Table[bool]{}, Table[int]{}, Deadlines{}, 0
	for id, b := range s.Bots.All() {
		s.Avail = s.Avail.Set(id, b.Available)
		if b.Available {
			s.Available++
		}
		s.Selves = selvesMove(s.Selves, "", b.Self)
		s.Deadlines = s.Deadlines.Move(id, time.Time{}, b.Due)
	}
	return s
}
