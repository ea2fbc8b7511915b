package reducers_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// decodeOps turns fuzz bytes into pool actions over five bots and two rooms.
func decodeOps(data []byte) []actions.Action {
	var out []actions.Action
	for i := 0; i+1 < len(data); i += 2 {
		op, arg := data[i], data[i+1]
		bot := fmt.Sprintf("b%d", arg%5)
		var a actions.Action
		switch op % 14 {
		case 0:
			a = actions.BotAdded.New(actions.BotAddedPayload{Bot: bot, Puppet: "mock"})
		case 1:
			a = actions.BotRemoved.New(actions.BotPayload{Bot: bot})
		case 2:
			a = actions.Login.New(actions.LoginPayload{Bot: bot, Self: bot})
		case 3:
			a = actions.Logout.New(actions.ReasonPayload{Bot: bot, Reason: "x"})
		case 4:
			a = actions.Message.New(actions.MessagePayload{Bot: bot, MessageID: "m", Text: "t"})
		case 5:
			a = actions.Ding.New(actions.DingPayload{Bot: bot, Attempt: 1})
		case 6:
			a = actions.Dong.New(actions.BotPayload{Bot: bot})
		case 7:
			a = actions.BotFailed.New(actions.ReasonPayload{Bot: bot, Reason: "y"})
		case 8:
			a = actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: []string{fmt.Sprintf("r%d", arg%2)}})
		case 9:
			a = actions.SendRouted.New(actions.RoutePayload{ID: "s", Bot: bot, Attempt: int(arg%3) + 1})
		case 10:
			outcomes := []string{reducers.OutcomeDelivered, reducers.OutcomeNotSent, reducers.OutcomeUnknown, reducers.OutcomePermanent}
			a = actions.SendResult.New(actions.SendResultPayload{ID: "s", Bot: bot, Outcome: outcomes[arg%4]})
		case 11:
			a = actions.ResetStarted.New(actions.ResetPayload{Bot: bot, Attempt: int(arg % 7)})
		case 12:
			a = actions.Scan.New(actions.BotPayload{Bot: bot})
		case 13:
			a = actions.SendDone.New(actions.SendDonePayload{ID: "s", Outcome: reducers.OutcomeDelivered})
		}
		a.Meta.Time = time.Unix(int64(i), 0)
		out = append(out, a)
	}
	return out
}

func snapshot(t *testing.T, s reducers.Pool) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzPoolReducer checks, after every action, that the reducer did not write
// through its input (every earlier state still encodes as it did), and that
// the fields derived from Bots agree with it.
func FuzzPoolReducer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 2, 0, 2, 1, 8, 0, 8, 1, 9, 0, 10, 1, 10, 1, 10, 1, 7, 0, 6, 0, 1, 1})
	f.Add([]byte{0, 3, 2, 3, 3, 3, 6, 3, 12, 3, 2, 3, 1, 3, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s reducers.Pool
		type version struct {
			s    reducers.Pool
			json string
		}
		var history []version
		for _, a := range decodeOps(data) {
			prev := s
			s = reducers.PoolReducer(s, a)
			history = append(history, version{prev, snapshot(t, prev)})

			n := 0
			for id, b := range s.Bots.All() {
				if b.ID != id {
					t.Fatalf("bot %q has ID %q", id, b.ID)
				}
				up, ok := s.Avail.Get(id)
				if !ok || up != b.Available {
					t.Fatalf("Avail[%q] = %v,%v but Bots says %v", id, up, ok, b.Available)
				}
				if b.Available {
					n++
					if !b.LoggedIn {
						t.Fatalf("%q available but not logged in", id)
					}
				}
			}
			if n != s.Available || s.Avail.Len() != s.Bots.Len() {
				t.Fatalf("Available %d, counted %d; Avail %d entries, Bots %d", s.Available, n, s.Avail.Len(), s.Bots.Len())
			}
			for room, members := range s.Rooms.All() {
				if len(members) == 0 {
					t.Fatalf("room %q kept with no members", room)
				}
				for _, m := range members {
					if !s.Bots.Has(m) {
						t.Fatalf("room %q lists removed bot %q", room, m)
					}
				}
			}
		}
		for i, h := range history {
			if got := snapshot(t, h.s); got != h.json {
				t.Fatalf("state %d was written through:\nthen %s\nnow  %s", i, h.json, got)
			}
		}
	})
}
