package selectors

import (
	"time"

	"github.com/hawechaty/hawechaty/reducers"
)

// NextBot is the bot round robin would choose for a send to target now
// (see reducers.NextBot): the reducer makes the same choice when it
// routes a send.
func NextBot(s reducers.Pool, target string, exclude func(bot string) bool) (string, bool) {
	return reducers.NextBot(s, target, exclude)
}

// AffinityBot is the bot affinity would choose for a conversation now
// (see reducers.AffinityBot).
func AffinityBot(s reducers.Pool, conversation string, exclude func(bot string) bool) (string, bool) {
	return reducers.AffinityBot(s, conversation, exclude)
}

// ConversationBot is the bot affinity would send conversation's next
// message through now, send budgets aside (see reducers.ConversationBot):
// the bot the conversation sticks to while it can serve it.
func ConversationBot(s reducers.Pool, conversation string) (string, bool) {
	return reducers.ConversationBot(s, conversation)
}

// NextDeadline returns when the clock must look at the pool next: the
// earliest Due of any bot, found without a scan.
func NextDeadline(s reducers.Pool) (time.Time, bool) {
	t, _, ok := s.Deadlines.Min()
	return t, ok
}

// DueBots returns the bots whose Due is not after now, earliest first.
// Its cost is in the number of bots due, not in the size of the pool.
func DueBots(s reducers.Pool, now time.Time) []string {
	var out []string
	for t, bot := range s.Deadlines.Ascend() {
		if t.After(now) {
			break
		}
		out = append(out, bot)
	}
	return out
}

// Health is a snapshot of the pool for dashboards and logs.
type Health struct {
	Total     int      `json:"total"`
	Available int      `json:"available"`
	Down      bool     `json:"down"`
	Failed    []string `json:"failed"` // bots logged in or added but unavailable, in pool order
	// Unfollowed: bots whose listed contacts lack the heartbeat contact
	// (reducers.Pool.Unfollowed); they are dinged through the puppet
	// protocol, in pool order.
	Unfollowed []string `json:"unfollowed,omitempty"`
}

// PoolHealth is a memoized Health: it is recomputed only when a bot's
// availability flips, bots are added or removed, or a bot's following of
// the heartbeat contact changes, not on every message. The Failed and
// Unfollowed slices are shared by every caller of one result: copy them
// before changing them.
var PoolHealth = Create3(
	func(s reducers.Pool) reducers.Table[bool] { return s.Avail },
	func(s reducers.Pool) bool { return s.Down },
	func(s reducers.Pool) reducers.Table[bool] { return s.Unfollowed },
	func(avail reducers.Table[bool], down bool, unfollowed reducers.Table[bool]) Health {
		h := Health{Total: avail.Len(), Down: down, Failed: []string{}}
		for id, up := range avail.All() {
			if up {
				h.Available++
			} else {
				h.Failed = append(h.Failed, id)
			}
			if unfollowed.Has(id) {
				h.Unfollowed = append(h.Unfollowed, id)
			}
		}
		return h
	})
