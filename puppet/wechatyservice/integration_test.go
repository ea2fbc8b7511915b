//go:build integration

package wechatyservice_test

// Tests against the real wechaty-puppet-service server (Node, started by
// servicetest). Run with `make integration-puppetservice`, which installs
// the pinned npm packages first; they fail, never skip, without them.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realPuppet returns a stopped puppet on srv, closed at cleanup.
func realPuppet(t *testing.T, srv *servicetest.Server, token string, opts ...wechatyservice.Option) *wechatyservice.Puppet {
	t.Helper()
	p, err := wechatyservice.New(srv.Endpoint, puppet.NewSecret(token), append([]wechatyservice.Option{
		wechatyservice.WithNoTLS(!srv.TLS),
		wechatyservice.WithName("svc-" + srv.Self),
		wechatyservice.WithBackoff(wechatyservice.Backoff{Base: 100 * time.Millisecond, Factor: 1.6, Jitter: 0.2, Max: time.Second}),
		wechatyservice.WithCallTimeout(10 * time.Second)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// realLoggedIn starts a puppet on srv and waits for its login; the
// context it returns bounds the test (integrationCtx).
func realLoggedIn(t *testing.T, srv *servicetest.Server) (*wechatyservice.Puppet, context.Context) {
	t.Helper()
	p := realPuppet(t, srv, srv.Token)
	ctx := integrationCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)
	return p, ctx
}

func integrationCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestIntegrationConformance runs the shared puppet suite against the real
// server, a fresh server per subtest.
func TestIntegrationConformance(t *testing.T) {
	puppettest.Run(t, puppettest.Harness{
		New: func(t *testing.T) puppettest.Subject {
			srv := servicetest.Start(t, servicetest.Config{})
			return puppettest.Subject{
				Puppet:           realPuppet(t, srv, srv.Token),
				HeartbeatContact: srv.Heartbeat,
				Room:             srv.Room,
				Contact:          srv.Contact,
				Post: func(conv, text string) error {
					return srv.Post(srv.Contact, conv, text, "")
				},
				Delivered: func(to, text string) bool { return srv.Delivered(to, text) > 0 },
				PostMedia: func(conv string, m puppet.Media) error {
					return srv.PostMedia(srv.Contact, conv, m, "")
				},
				DeliveredMedia: func(to string, m puppet.Media) bool { return srv.DeliveredMedia(to, m) > 0 },
			}
		},
		Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true,
			// PuppetMock delivers files as messages; link and card sends
			// reach its methods, which do nothing: the server records them.
			SendMedia:    []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact},
			InboundMedia: []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact}},
		Timeout: 30 * time.Second,
	})
}

// TestIntegrationStory: login, rooms with members, sends delivered exactly
// once, both heartbeats, and the same message ID for one message seen by
// two bots in one room.
func TestIntegrationStory(t *testing.T) {
	world := servicetest.StartWorld(t, 2)
	a, b := world[0], world[1]
	ctx := integrationCtx(t)
	// Built from the environment, as hawechaty.FromEnv will.
	env := servicetest.Env(a, b)
	var ps []*wechatyservice.Puppet
	for i := range 2 {
		p, err := puppet.New(wechatyservice.PuppetName, puppet.Config{
			Name: fmt.Sprintf("svc#%d", i), Index: i, Token: puppet.NewSecret(strings.Split(env["HA_WECHATY_PUPPET_TOKEN"], ":")[i]),
			Getenv: func(k string) string { return env[k] },
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		ps = append(ps, p.(*wechatyservice.Puppet))
	}
	pa, pb := ps[0], ps[1]
	assert.Equal(t, a.Endpoint, pa.Endpoint())
	assert.Equal(t, b.Endpoint, pb.Endpoint())
	for _, p := range []*wechatyservice.Puppet{pa, pb} {
		require.NoError(t, p.Start(ctx))
	}
	assert.Equal(t, "bot-0", waitEvent(t, ctx, pa, puppet.EventLogin).Self)
	assert.Equal(t, "bot-1", waitEvent(t, ctx, pb, puppet.EventLogin).Self)

	rooms, err := pa.Rooms(ctx)
	require.NoError(t, err)
	require.Len(t, rooms, 1)
	assert.Equal(t, servicetest.Room, rooms[0].ID)
	assert.Equal(t, "HA room", rooms[0].Topic)
	assert.ElementsMatch(t, []string{"bot-0", "alice", "bob", "bot-1"}, rooms[0].Members)
	contacts, err := pa.Contacts(ctx)
	require.NoError(t, err)
	assert.Contains(t, contacts, puppet.Contact{ID: servicetest.Heartbeat, Name: "ChatieIO"})

	require.NoError(t, pa.Say(ctx, servicetest.Contact, "to alice"))
	require.NoError(t, pa.Say(ctx, servicetest.Room, "to the room"))
	a.WaitDelivered(t, ctx, servicetest.Contact, "to alice", 1)
	a.WaitDelivered(t, ctx, servicetest.Room, "to the room", 1)
	assert.Equal(t, 1, a.Delivered(servicetest.Contact, "to alice"), "delivered twice")
	assert.Zero(t, b.Delivered(servicetest.Room, "to the room"), "b's world saw a's send")

	// Chat heartbeat: ding to the official account, dong back from it.
	require.NoError(t, pb.Say(ctx, servicetest.Heartbeat, "ding"))
	dong := waitEvent(t, ctx, pb, puppet.EventMessage)
	assert.Equal(t, "dong", dong.Message.Text)
	assert.Equal(t, servicetest.Heartbeat, dong.Message.From)
	// Puppet-level heartbeat.
	require.NoError(t, pb.Ding(ctx, "probe-7"))
	assert.Equal(t, "probe-7", waitEvent(t, ctx, pb, puppet.EventDong).Data)

	// One room message seen by both bots carries one ID.
	require.NoError(t, a.Post("alice", servicetest.Room, "hello both", "m-4711"))
	require.NoError(t, b.Post("alice", servicetest.Room, "hello both", "m-4711"))
	for _, p := range []*wechatyservice.Puppet{pa, pb} {
		m := waitEvent(t, ctx, p, puppet.EventMessage).Message
		assert.Equal(t, puppet.Message{ID: "m-4711", From: "alice", Room: servicetest.Room, Text: "hello both", Time: m.Time}, *m)
		assert.WithinDuration(t, time.Now(), m.Time, time.Minute)
	}
}

func TestIntegrationWrongToken(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p := realPuppet(t, srv, "insecure_wrong-token-0815")
	ctx := integrationCtx(t)
	start := time.Now()
	err := p.Start(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "a refused token must not hang")
	assert.ErrorIs(t, err, wechatyservice.ErrUnauthenticated)
	assert.Contains(t, err.Error(), srv.Endpoint)
	assert.NotContains(t, err.Error(), "wrong-token-0815")
	assert.NotContains(t, err.Error(), srv.Token)
}

// TestIntegrationServerKilled: the server process dies; the bot is logged
// out, Say is not sent (so the pool may use another bot) and not
// delivered; when the server is back on the same endpoint the puppet
// reconnects and logs in by itself, and sends again.
func TestIntegrationServerKilled(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p, ctx := realLoggedIn(t, srv)
	require.NoError(t, p.Say(ctx, servicetest.Contact, "before"))

	srv.Kill()
	waitEvent(t, ctx, p, puppet.EventLogout)
	err := p.Say(ctx, servicetest.Contact, "while down")
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)

	srv.Restart()
	assert.Equal(t, srv.Self, waitEvent(t, ctx, p, puppet.EventLogin).Self)
	require.NoError(t, p.Say(ctx, servicetest.Contact, "after"))
	srv.WaitDelivered(t, ctx, servicetest.Contact, "after", 1)
	assert.Equal(t, 1, srv.Delivered(servicetest.Contact, "before"))
	assert.Zero(t, srv.Delivered(servicetest.Contact, "while down"))
}

// TestIntegrationHungService: the service takes the send and never
// answers; the deadline ends Say with an unknown outcome (it may have been
// delivered), not with "not sent".
func TestIntegrationHungService(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p, ctx := realLoggedIn(t, srv)
	require.NoError(t, p.Say(ctx, servicetest.Contact, "before"))
	srv.WaitDelivered(t, ctx, servicetest.Contact, "before", 1)
	require.NoError(t, srv.Hang())
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err := p.Say(short, servicetest.Contact, "into the void")
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err), "%v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// The connection itself is fine: the puppet-level heartbeat still works.
	require.NoError(t, p.Ding(ctx, "still here"))
	assert.Equal(t, "still here", waitEvent(t, ctx, p, puppet.EventDong).Data)
}

// TestIntegrationScanFriends: the real service's scan statuses reach the
// pool (waiting with the QR code at start, then statuses without a code);
// its contact payloads tell friendship, so a listed stranger is left out
// of Contacts and refused as unreachable without a send, until a confirmed
// friendship makes it a friend.
func TestIntegrationScanFriends(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p := realPuppet(t, srv, srv.Token)
	ctx := integrationCtx(t)
	require.NoError(t, p.Start(ctx))
	first := waitEvent(t, ctx, p, puppet.EventScan)
	assert.Equal(t, puppet.ScanWaiting, first.Scan)
	assert.Equal(t, "https://github.com/wechaty/wechaty-puppet-mock", first.Data)
	waitEvent(t, ctx, p, puppet.EventLogin)
	for status, want := range []puppet.ScanStatus{puppet.ScanUnknown, puppet.ScanCanceled, puppet.ScanWaiting, puppet.ScanScanned, puppet.ScanConfirmed, puppet.ScanTimeout} {
		require.NoError(t, srv.Scan(status, ""))
		ev := waitEvent(t, ctx, p, puppet.EventScan)
		assert.Equal(t, want, ev.Scan, "status %d", status)
		assert.Empty(t, ev.Data)
	}
	contacts, err := p.Contacts(ctx)
	require.NoError(t, err)
	ids := make([]string, 0, len(contacts))
	for _, c := range contacts {
		ids = append(ids, c.ID)
	}
	assert.Subset(t, ids, []string{servicetest.Contact, servicetest.Contact2, servicetest.Heartbeat})
	assert.NotContains(t, ids, servicetest.Stranger)
	err = p.Say(ctx, servicetest.Stranger, "not yet")
	assert.Equal(t, puppet.Unreachable, puppet.Classify(err), "%v", err)

	require.NoError(t, srv.Befriend(servicetest.Stranger))
	assert.Equal(t, servicetest.Stranger, waitEvent(t, ctx, p, puppet.EventFriendAdded).Data)
	require.NoError(t, p.Say(ctx, servicetest.Stranger, "friends now"))
	srv.WaitDelivered(t, ctx, servicetest.Stranger, "friends now", 1)
	assert.Zero(t, srv.Delivered(servicetest.Stranger, "not yet"))
	contacts, err = p.Contacts(ctx)
	require.NoError(t, err)
	assert.Contains(t, contacts, puppet.Contact{ID: servicetest.Stranger, Name: "Carol"})
}
