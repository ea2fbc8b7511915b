package epics_test

import (
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// TestClockMarbles: the Clock epic over the pool reducer, as marbles with
// frames of one second. Only the clock runs (no effects), so a reset that
// starts never ends and nothing is due after it.
func TestClockMarbles(t *testing.T) {
	due := func(start time.Time, sec int) actions.Action {
		return actions.Due.New(actions.DuePayload{Bot: "b1", At: start.Add(time.Duration(sec) * time.Second)})
	}
	added := actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1", Puppet: "fake"})
	login := actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "me"})
	msg := actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m1", From: "carol", Text: "hi"})
	newStore := func(m *marbletest.M) *store.Store[reducers.Pool] {
		st, err := store.New(exact().Reducer(), reducers.Pool{}, store.WithEpic("clock", epics.Clock(identity)))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	t.Run("silent", func(t *testing.T) {
		marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
			start := time.Now()
			marbletest.ExpectStore(m, newStore(m), marbletest.StoreCase{
				Dispatch: "(al)",
				// Dings due at 60, 80, 100 s; the failure at 120 s; the
				// first reset at 121 s.
				Expected: "(al) 56s d 19s e 19s f 19s gh",
				Values: marbletest.Values{"a": added, "l": login,
					"d": due(start, 60), "e": due(start, 80), "f": due(start, 100), "g": due(start, 120), "h": due(start, 121)},
				Ordered: true,
				For:     10 * time.Minute,
			})
		})
	})

	t.Run("a message moves the deadline lazily", func(t *testing.T) {
		marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
			start := time.Now()
			marbletest.ExpectStore(m, newStore(m), marbletest.StoreCase{
				Dispatch: "(al) 26s m",
				// At 60 s the clock finds b1 spoke at 30 s: nothing is due
				// but the next look, at 90 s, the first ding; then 110, 130 s,
				// the failure at 150 s and the reset at 151 s.
				Expected: "(al) 26s m 29s d 29s e 19s f 19s g 19s hi",
				Values: marbletest.Values{"a": added, "l": login, "m": msg,
					"d": due(start, 60), "e": due(start, 90), "f": due(start, 110), "g": due(start, 130),
					"h": due(start, 150), "i": due(start, 151)},
				Ordered: true,
				For:     10 * time.Minute,
			})
		})
	})
}
