package wechatyservice_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// leakyToken has characters that a URL escapes, so that the test also
// sees the token as a QR code URL would carry it.
const leakyToken = "insecure_tok+en/4711="

// TestServiceStringsAreRedacted: a service that echoes the token in every
// string it sends (logout reason, scan URL, heartbeat and dong data, error
// text, IDs, topics, names, error messages) never gets it into an event,
// a result, an error or a log line. A message's text is the users'
// content and is passed on as it is.
func TestServiceStringsAreRedacted(t *testing.T) {
	tok := leakyToken
	n := newFakeNet(t, tok)
	hostileContact := "wxid_" + tok
	hostileRoom := tok + "@chatroom"
	n.svc.extraContacts = map[string]string{hostileContact: "name " + tok}
	n.svc.extraRooms = map[string]fakeRoomInfo{hostileRoom: {Topic: "topic " + tok, Members: []string{fakeSelf, "member-" + tok}}}
	p, logs := newFakePuppet(t, n, tok)
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)

	esc := url.QueryEscape(tok)
	type ev struct {
		t       pbp.EventType
		payload string
	}
	for _, e := range []ev{
		{pbp.EventType_EVENT_TYPE_LOGOUT, fmt.Sprintf(`{"contactId":%q,"data":"kicked out: token %s expired"}`, fakeSelf, tok)},
		{pbp.EventType_EVENT_TYPE_LOGIN, fmt.Sprintf(`{"contactId":"self-%s"}`, tok)},
		{pbp.EventType_EVENT_TYPE_LOGOUT, `{"contactId":"bot","data":{"reason":"\u0069nsecure_tok+en/4711= revoked"}}`},
		{pbp.EventType_EVENT_TYPE_LOGIN, `{"contactId":"bot"}`},
		{pbp.EventType_EVENT_TYPE_SCAN, fmt.Sprintf(`{"qrcode":"https://login.example/?t=%s&raw=%s","status":2}`, esc, tok)},
		{pbp.EventType_EVENT_TYPE_HEARTBEAT, fmt.Sprintf(`{"data":"alive %s"}`, tok)},
		{pbp.EventType_EVENT_TYPE_DONG, fmt.Sprintf(`{"data":"dong %s"}`, tok)},
		{pbp.EventType_EVENT_TYPE_ERROR, fmt.Sprintf(`{"gerror":"bad token %s"}`, tok)},
		{pbp.EventType_EVENT_TYPE_MESSAGE, fmt.Sprintf(`{"messageId":"gone-%s"}`, tok)}, // MessagePayload: NotFound, naming the ID
		{pbp.EventType_EVENT_TYPE_LOGIN, `{"contactId":5}`},                             // a payload that does not decode
	} {
		n.svc.emitRaw(e.t, e.payload)
	}
	n.svc.postAs(&pbp.MessagePayloadResponse{
		Id: "msg-" + tok, TalkerId: "talker-" + tok, ListenerId: "listener-" + tok, RoomId: "room-" + tok,
		Text: "users may write " + tok, ReceiveTime: timestamppb.Now(),
	})
	n.svc.emitRaw(pbp.EventType_EVENT_TYPE_HEARTBEAT, `{"data":"the end"}`)

	var events []puppet.Event
	for {
		e := nextEvent(t, ctx, p)
		events = append(events, e)
		if e.Kind == puppet.EventHeartbeat && e.Data == "the end" {
			break
		}
	}
	kinds := map[puppet.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
		text := fmt.Sprintf("%+v", e)
		if e.Err != nil {
			text += " " + e.Err.Error()
		}
		if m := e.Message; m != nil {
			assert.Equal(t, "users may write "+tok, m.Text, "message text is left alone")
			text += fmt.Sprintf(" %s %s %s %s", m.ID, m.From, m.To, m.Room)
		}
		assert.NotContains(t, text, tok, "%s event", e.Kind)
		assert.NotContains(t, text, esc, "%s event", e.Kind)
		assert.NotContains(t, text, "\\u0069nsecure", "%s event", e.Kind)
	}
	assert.Equal(t, map[puppet.EventKind]int{
		puppet.EventLogout: 2, puppet.EventLogin: 2, puppet.EventScan: 1, puppet.EventHeartbeat: 2,
		puppet.EventDong: 1, puppet.EventError: 3, puppet.EventMessage: 1,
	}, kinds, "every event arrived")
	assert.Equal(t, "kicked out: token [REDACTED] expired", events[0].Data)
	assert.Equal(t, "self-[REDACTED]", events[1].Self)

	rooms, err := p.Rooms(ctx)
	require.NoError(t, err)
	require.Len(t, rooms, 2)
	contacts, err := p.Contacts(ctx)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v %+v", rooms, contacts), tok)
	assert.Contains(t, fmt.Sprintf("%+v", contacts), "name [REDACTED]")

	// A service error that quotes the token, and a target the app can
	// only know redacted.
	n.svc.mu.Lock()
	n.svc.sayCode, n.svc.sayMsg = codes.Internal, "no luck with "+tok
	n.svc.mu.Unlock()
	err = p.Say(ctx, fakeContact, "x")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), tok)
	assert.Contains(t, err.Error(), "no luck with [REDACTED]")
	err = p.Say(ctx, strings.ReplaceAll(hostileContact, tok, "[REDACTED]"), "x")
	assert.Equal(t, puppet.Permanent, puppet.Classify(err), "%v", err)

	require.NoError(t, p.Stop(ctx))
	assert.NotContains(t, logs.String(), tok)
	assert.NotContains(t, logs.String(), esc)
}

// nextEvent returns the next event; it fails the test at ctx's deadline.
func nextEvent(t *testing.T, ctx context.Context, p puppet.Puppet) puppet.Event {
	t.Helper()
	select {
	case ev, ok := <-p.Events():
		require.True(t, ok, "events closed")
		return ev
	case <-ctx.Done():
		t.Fatal("no event before the deadline")
		return puppet.Event{}
	}
}
