package selectors

import (
	"hash/maphash"

	"github.com/hawechaty/hawechaty/reducers"
)

// NextBot chooses the bot for a send to target by round robin: the first
// available bot at or after the pool's cursor that can reach target and is
// not excluded. A target that is a known room is reachable only by the
// bots in it; any other target (a contact) by every bot. It returns false
// when no bot qualifies.
func NextBot(s reducers.Pool, target string, exclude func(bot string) bool) (string, bool) {
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
func firstEligible(s reducers.Pool, members []string, exclude func(string) bool, cursor int) (string, bool) {
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

var affinitySeed = maphash.MakeSeed()

// AffinityBot chooses a bot for a conversation by rendezvous hashing: the
// eligible bot with the highest hash of (conversation, bot). The choice
// stays with one bot while it is available and moves only when it fails;
// other bots failing or recovering do not move it. Cost: one hash per
// available bot that can reach the conversation.
func AffinityBot(s reducers.Pool, conversation string, exclude func(bot string) bool) (string, bool) {
	best, bestScore := "", uint64(0)
	consider := func(id string) {
		if exclude != nil && exclude(id) {
			return
		}
		var h maphash.Hash
		h.SetSeed(affinitySeed)
		h.WriteString(conversation)
		h.WriteByte(0)
		h.WriteString(id)
		if sc := h.Sum64(); best == "" || sc > bestScore {
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

// Health is a snapshot of the pool for dashboards and logs.
type Health struct {
	Total     int      `json:"total"`
	Available int      `json:"available"`
	Down      bool     `json:"down"`
	Failed    []string `json:"failed"` // bots logged in or added but unavailable, in pool order
}

// PoolHealth is a memoized Health: it is recomputed only when a bot's
// availability flips or bots are added or removed, not on every message.
var PoolHealth = Create2(
	func(s reducers.Pool) reducers.Table[bool] { return s.Avail },
	func(s reducers.Pool) bool { return s.Down },
	func(avail reducers.Table[bool], down bool) Health {
		h := Health{Total: avail.Len(), Down: down, Failed: []string{}}
		for id, up := range avail.All() {
			if up {
				h.Available++
			} else {
				h.Failed = append(h.Failed, id)
			}
		}
		return h
	})
