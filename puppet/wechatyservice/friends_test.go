package wechatyservice_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
)

// TestScanStatus: Wechaty's scan status (0 to 5) becomes Event.Scan, with
// the QR code when there is one; a status without a code (scanned,
// confirmed…) keeps its status.
func TestScanStatus(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, _ := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	first := waitEvent(t, ctx, p, puppet.EventScan)
	assert.Equal(t, puppet.ScanWaiting, first.Scan)
	assert.Equal(t, "https://qr.example/1", first.Data)
	waitEvent(t, ctx, p, puppet.EventLogin)

	for _, tc := range []struct {
		payload string
		want    puppet.ScanStatus
		qr      string
	}{
		{`{"qrcode":"https://qr.example/2","status":2}`, puppet.ScanWaiting, "https://qr.example/2"},
		{`{"status":3}`, puppet.ScanScanned, ""},
		{`{"status":4,"qrcode":""}`, puppet.ScanConfirmed, ""},
		{`{"status":1}`, puppet.ScanCanceled, ""},
		{`{"status":5}`, puppet.ScanTimeout, ""},
		{`{"status":0,"qrcode":"q"}`, puppet.ScanUnknown, "q"},
		{`{"status":6}`, puppet.ScanUnknown, ""},
		{`{"status":-1}`, puppet.ScanUnknown, ""},
		{`{"status":2.5}`, puppet.ScanUnknown, ""},
		{`{"status":1e300}`, puppet.ScanUnknown, ""},
		{`{"status":"3","qrcode":"q"}`, puppet.ScanUnknown, "q"},
		{`{"qrcode":"q"}`, puppet.ScanUnknown, "q"},
		{`{"status":3.0}`, puppet.ScanScanned, ""},
	} {
		n.svc.emitRaw(pbp.EventType_EVENT_TYPE_SCAN, tc.payload)
		ev := waitEvent(t, ctx, p, puppet.EventScan)
		assert.Equal(t, tc.want, ev.Scan, tc.payload)
		assert.Equal(t, tc.qr, ev.Data, tc.payload)
	}
}

// TestFriendshipConfirmedIsFriendAdded: only a confirmed friendship tells
// the pool of a new friend; a request received is not one yet, and a
// friendship the service cannot describe is an error event.
func TestFriendshipConfirmedIsFriendAdded(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, ctx := loggedIn(t, n)

	n.svc.announceFriendship("fr-1", "dave", pbp.FriendshipType_FRIENDSHIP_TYPE_RECEIVE)
	n.svc.announceFriendship("fr-2", "erin", pbp.FriendshipType_FRIENDSHIP_TYPE_VERIFY)
	n.svc.announceFriendship("fr-3", "carol", pbp.FriendshipType_FRIENDSHIP_TYPE_CONFIRM)
	ev := waitEvent(t, ctx, p, puppet.EventFriendAdded)
	assert.Equal(t, "carol", ev.Data, "the request and the verification are no friendship")

	n.svc.emitRaw(pbp.EventType_EVENT_TYPE_FRIENDSHIP, `{"friendshipId":"fr-none"}`)
	assert.ErrorContains(t, waitEvent(t, ctx, p, puppet.EventError).Err, `friendship "fr-none"`)
	n.svc.emitRaw(pbp.EventType_EVENT_TYPE_FRIENDSHIP, `{}`)
	assert.ErrorIs(t, waitEvent(t, ctx, p, puppet.EventError).Err, wechatyservice.ErrBadEvent)
}

// TestContactsFriendsOnly: when the service tells friendship, Contacts
// lists friends, official accounts and the bot only, and Say refuses a
// listed stranger as unreachable without sending; once the friendship is
// confirmed the stranger is a friend.
func TestContactsFriendsOnly(t *testing.T) {
	n := newFakeNet(t, testToken)
	n.svc.mu.Lock()
	n.svc.extraContacts = map[string]string{"carol": "Carol"}
	n.svc.mu.Unlock()
	p, ctx := loggedIn(t, n)

	all, err := p.Contacts(ctx)
	require.NoError(t, err)
	assert.Contains(t, all, puppet.Contact{ID: "carol", Name: "Carol"}, "a service that does not tell lists everyone")
	require.NoError(t, p.Say(ctx, "carol", "while unknown"))

	n.svc.setFriends(fakeContact)
	friends, err := p.Contacts(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []puppet.Contact{{ID: fakeSelf, Name: "Bot"}, {ID: fakeContact, Name: "Alice"}, {ID: fakeHeartbeat, Name: "ChatieIO"}}, friends)

	err = p.Say(ctx, "carol", "stranger")
	assert.Equal(t, puppet.Unreachable, puppet.Classify(err), "%v", err)
	assert.ErrorIs(t, err, wechatyservice.ErrNotFriend)
	assert.False(t, n.svc.wasDelivered("carol", "stranger"))
	require.NoError(t, p.Say(ctx, fakeContact, "friend"))
	require.NoError(t, p.Say(ctx, fakeHeartbeat, "official"))

	n.svc.announceFriendship("fr-carol", "carol", pbp.FriendshipType_FRIENDSHIP_TYPE_CONFIRM)
	assert.Equal(t, "carol", waitEvent(t, ctx, p, puppet.EventFriendAdded).Data)
	require.NoError(t, p.Say(ctx, "carol", "friend now"))
	assert.True(t, n.svc.wasDelivered("carol", "friend now"))
	friends, err = p.Contacts(ctx)
	require.NoError(t, err)
	assert.Contains(t, friends, puppet.Contact{ID: "carol", Name: "Carol"})
}

// TestNotFriendOutcomes: what the pool may retry on another bot. Only the
// puppet's own refusal before sending is unreachable; a service error that
// speaks of friendship can come after the message left (WeChat takes the
// message, then refuses it), so it stays outcome unknown.
func TestNotFriendOutcomes(t *testing.T) {
	n := newFakeNet(t, testToken)
	n.svc.mu.Lock()
	n.svc.extraContacts = map[string]string{"carol": "Carol"}
	n.svc.mu.Unlock()
	n.svc.setFriends(fakeContact)
	p, ctx := loggedIn(t, n)
	_, err := p.Contacts(ctx)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		to   string
		code codes.Code
		msg  string
		want puppet.Outcome
	}{
		{"listed stranger, refused before sending", "carol", codes.OK, "", puppet.Unreachable},
		{"friend", fakeContact, codes.OK, "", puppet.Delivered},
		{"friend verification notice", fakeContact, codes.Unknown, "开启了朋友验证，你还不是他（她）朋友。请先发送朋友验证请求", puppet.OutcomeUnknown},
		{"sent but refused", fakeContact, codes.Unknown, "消息已发出，但被对方拒收了。", puppet.OutcomeUnknown},
		{"english not a friend", fakeContact, codes.Internal, "contact is not your friend", puppet.OutcomeUnknown},
		{"blacklisted", fakeContact, codes.Unknown, "MM_ERR_BLACKLIST", puppet.OutcomeUnknown},
		{"permission denied stays permanent", fakeContact, codes.PermissionDenied, "not a friend", puppet.Permanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n.svc.mu.Lock()
			n.svc.sayCode, n.svc.sayMsg = tc.code, tc.msg
			n.svc.mu.Unlock()
			defer func() { n.svc.mu.Lock(); n.svc.sayCode, n.svc.sayMsg = codes.OK, ""; n.svc.mu.Unlock() }()
			err := p.Say(ctx, tc.to, "x")
			assert.Equal(t, tc.want, puppet.Classify(err), "%v", err)
			if tc.want == puppet.Unreachable {
				assert.ErrorIs(t, err, puppet.ErrNotFriend)
				assert.NotErrorIs(t, err, puppet.ErrOutcomeUnknown)
			} else {
				assert.NotErrorIs(t, err, puppet.ErrNotFriend)
			}
		})
	}
}
