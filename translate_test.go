package hawechaty_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
)

// Translate is the pure function from a puppet's event to the pool's
// action: each kind of event, the heartbeat contact's dong, and the
// events that are not actions.
func TestTranslate(t *testing.T) {
	const hb = "gh_hb"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	msg := func(m puppet.Message) puppet.Event { return puppet.Event{Kind: puppet.EventMessage, Message: &m} }
	tests := []struct {
		name string
		ev   puppet.Event
		want actions.Action
		ok   bool
	}{
		{"login", puppet.Event{Kind: puppet.EventLogin, Self: "wxid_a"},
			actions.Login.New(actions.LoginPayload{Bot: "b", Self: "wxid_a"}), true},
		{"logout with a reason", puppet.Event{Kind: puppet.EventLogout, Data: "kicked"},
			actions.Logout.New(actions.ReasonPayload{Bot: "b", Reason: "kicked"}), true},
		{"logout without a reason", puppet.Event{Kind: puppet.EventLogout},
			actions.Logout.New(actions.ReasonPayload{Bot: "b", Reason: "logged out"}), true},
		{"scan: the QR payload, sealed, waits", puppet.Event{Kind: puppet.EventScan, Data: "https://login/qr?secret"},
			actions.Scan.New(actions.ScanPayload{Bot: "b", Status: actions.ScanWaiting, QR: actions.NewQR("https://login/qr?secret")}), true},
		{"scan: the status as the puppet says", puppet.Event{Kind: puppet.EventScan, Scan: puppet.ScanConfirmed},
			actions.Scan.New(actions.ScanPayload{Bot: "b", Status: actions.ScanConfirmed}), true},
		{"protocol dong", puppet.Event{Kind: puppet.EventDong, Data: "ding"},
			actions.Dong.New(actions.BotPayload{Bot: "b"}), true},
		{"heartbeat", puppet.Event{Kind: puppet.EventHeartbeat},
			actions.Heartbeat.New(actions.BotPayload{Bot: "b"}), true},
		{"room message", msg(puppet.Message{ID: "m1", From: "carol", Room: "r1", Text: "hi", Time: at}),
			actions.Message.New(actions.MessagePayload{Bot: "b", MessageID: "m1", From: "carol", Room: "r1", Text: "hi", Time: at}), true},
		{"direct message: To is the bot, not kept", msg(puppet.Message{ID: "m2", From: "carol", To: "wxid_a", Text: "yo"}),
			actions.Message.New(actions.MessagePayload{Bot: "b", MessageID: "m2", From: "carol", Text: "yo"}), true},
		{"dong from the heartbeat contact", msg(puppet.Message{ID: "d", From: hb, Text: "dong"}),
			actions.Dong.New(actions.BotPayload{Bot: "b"}), true},
		{"anything else from the heartbeat contact is a message", msg(puppet.Message{ID: "d2", From: hb, Text: "welcome"}),
			actions.Message.New(actions.MessagePayload{Bot: "b", MessageID: "d2", From: hb, Text: "welcome"}), true},
		{"dong in a room is a message", msg(puppet.Message{ID: "d3", From: hb, Room: "r1", Text: "dong"}),
			actions.Message.New(actions.MessagePayload{Bot: "b", MessageID: "d3", From: hb, Room: "r1", Text: "dong"}), true},
		{"dong from someone else is a message", msg(puppet.Message{ID: "d4", From: "carol", Text: "dong"}),
			actions.Message.New(actions.MessagePayload{Bot: "b", MessageID: "d4", From: "carol", Text: "dong"}), true},
		{"friend added", puppet.Event{Kind: puppet.EventFriendAdded, Data: "alice"},
			actions.ContactAdded.New(actions.ContactPayload{Bot: "b", Contact: "alice"}), true},
		{"friend removed", puppet.Event{Kind: puppet.EventFriendRemoved, Data: "alice"},
			actions.ContactRemoved.New(actions.ContactPayload{Bot: "b", Contact: "alice"}), true},
		{"friend event without a contact", puppet.Event{Kind: puppet.EventFriendAdded}, actions.Action{}, false},
		{"message event without a message", puppet.Event{Kind: puppet.EventMessage}, actions.Action{}, false},
		{"error", puppet.Event{Kind: puppet.EventError, Err: errors.New("socket")}, actions.Action{}, false},
		{"unknown kind", puppet.Event{Kind: 99}, actions.Action{}, false},
		{"zero event", puppet.Event{}, actions.Action{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := hawechaty.Translate("b", tt.ev, hb)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			assert.Zero(t, got.Meta, "the store stamps actions, not Translate")
		})
	}
}

// Translate is pure: the same event gives the same action, and the event's
// message is not shared with the action (changing one leaves the other).
func TestTranslateIsPure(t *testing.T) {
	m := &puppet.Message{ID: "m1", From: "carol", Text: "hi"}
	ev := puppet.Event{Kind: puppet.EventMessage, Message: m}
	a1, _ := hawechaty.Translate("b", ev, "hb")
	a2, _ := hawechaty.Translate("b", ev, "hb")
	assert.Equal(t, a1, a2)
	m.Text = "changed"
	p, _ := actions.Message.Match(a1)
	assert.Equal(t, "hi", p.Text)
}
