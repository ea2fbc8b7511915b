package wechatyservice_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/internal/syncbuf"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testToken = "insecure_secret-4711"

// fastBackoff keeps reconnection tests short.
var fastBackoff = wechatyservice.Backoff{Base: 10 * time.Millisecond, Factor: 2, Jitter: 0.2, Max: 100 * time.Millisecond}

// newFakePuppet returns a stopped puppet on n, closed at cleanup, and its
// log.
func newFakePuppet(t testing.TB, n *fakeNet, token string, opts ...wechatyservice.Option) (*wechatyservice.Puppet, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	opts = append([]wechatyservice.Option{
		wechatyservice.WithName("svc#0"),
		wechatyservice.WithBackoff(fastBackoff),
		wechatyservice.WithCallTimeout(5 * time.Second),
		wechatyservice.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		wechatyservice.WithDialOptions(grpc.WithContextDialer(n.dial)),
		wechatyservice.WithNoTLS(n.tls == nil),
	}, opts...)
	p, err := wechatyservice.New("passthrough:///fake", puppet.NewSecret(token), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p, logs
}

// loggedIn starts a puppet on n and waits for its login; the context it
// returns bounds the test (testCtx).
func loggedIn(t *testing.T, n *fakeNet) (*wechatyservice.Puppet, context.Context) {
	t.Helper()
	p, _ := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)
	return p, ctx
}

// codeIn returns the gRPC code of the RPCError inside err.
func codeIn(err error) codes.Code {
	var rpc *wechatyservice.RPCError
	if errors.As(err, &rpc) {
		return rpc.Code
	}
	return codes.OK
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitEvent reads events until one of kind arrives; it fails the test at
// ctx's deadline.
func waitEvent(t *testing.T, ctx context.Context, p puppet.Puppet, kind puppet.EventKind) puppet.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-p.Events():
			require.True(t, ok, "events closed while waiting for %s", kind)
			if ev.Kind == kind {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event before the deadline", kind)
		}
	}
}

// TestConformanceFake runs the shared puppet suite against the in-process
// fake service: the same adapter code the real server test runs, hermetic.
func TestConformanceFake(t *testing.T) {
	puppettest.Run(t, puppettest.Harness{
		New: func(t *testing.T) puppettest.Subject {
			n := newFakeNet(t, testToken)
			p, _ := newFakePuppet(t, n, testToken)
			return puppettest.Subject{
				Puppet:           p,
				HeartbeatContact: fakeHeartbeat,
				Room:             fakeRoom,
				Contact:          fakeContact,
				Post:             func(conv, text string) error { n.svc.post(conv, text); return nil },
				Delivered:        n.svc.wasDelivered,
				PostMedia:        func(conv string, m puppet.Media) error { n.svc.postMedia(conv, m); return nil },
				DeliveredMedia: func(to string, m puppet.Media) bool {
					n.svc.mu.Lock()
					defer n.svc.mu.Unlock()
					return slices.ContainsFunc(n.svc.sentMedia, func(d fakeMedia) bool { return d.To == to && puppettest.SameMedia(m, d.Media) })
				},
			}
		},
		Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true,
			SendMedia:    []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact},
			InboundMedia: []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact}},
		Timeout: 10 * time.Second,
	})
}

func TestStartEmitsScanLoginHeartbeat(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, _ := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	var kinds []puppet.EventKind
	for ev := range p.Events() {
		kinds = append(kinds, ev.Kind)
		assert.False(t, ev.Time.IsZero(), "event %s without time", ev.Kind)
		if ev.Kind == puppet.EventScan {
			assert.Equal(t, "https://qr.example/1", ev.Data)
		}
		if ev.Kind == puppet.EventLogin {
			assert.Equal(t, fakeSelf, ev.Self)
			break
		}
	}
	assert.Equal(t, []puppet.EventKind{puppet.EventHeartbeat, puppet.EventScan, puppet.EventLogin}, kinds)

	rooms, err := p.Rooms(ctx)
	require.NoError(t, err)
	assert.Equal(t, []puppet.Room{{ID: fakeRoom, Topic: "HA room", Members: []string{fakeSelf, fakeContact}}}, rooms)
	contacts, err := p.Contacts(ctx)
	require.NoError(t, err)
	assert.Contains(t, contacts, puppet.Contact{ID: fakeHeartbeat, Name: "ChatieIO"})
}

func TestOwnMessagesAreNotReported(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, ctx := loggedIn(t, n)
	require.NoError(t, p.Say(ctx, fakeContact, "mine"))
	n.svc.post("", "theirs")
	ev := waitEvent(t, ctx, p, puppet.EventMessage)
	assert.Equal(t, "theirs", ev.Message.Text, "the bot's own message came back as an event")
	assert.Equal(t, fakeContact, ev.Message.From)
	assert.Equal(t, fakeSelf, ev.Message.To)
	assert.False(t, ev.Message.Time.IsZero())
}

func TestWrongTokenNamesEndpointNotToken(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, logs := newFakePuppet(t, n, "wrong-token-0815")
	ctx := testCtx(t)
	start := time.Now()
	err := p.Start(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "a refused token must not hang")
	assert.ErrorIs(t, err, wechatyservice.ErrUnauthenticated)
	assert.Contains(t, err.Error(), "passthrough:///fake")
	assert.NotContains(t, err.Error(), "wrong-token-0815")
	assert.NotContains(t, logs.String(), "wrong-token-0815")
	assert.NotContains(t, fmt.Sprintf("%v %+v %s", p, p, p.Name()), "wrong-token-0815")
	// Still stopped: Say is not sent.
	assert.Equal(t, puppet.NotSent, puppet.Classify(p.Say(ctx, fakeContact, "x")))
}

func TestUnreachableStartFailsFast(t *testing.T) {
	n := newFakeNet(t, testToken)
	n.kill()
	p, _ := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	err := p.Start(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "passthrough:///fake")
	assert.Equal(t, codes.Unavailable, codeIn(err), "%v", err)
}

func TestStartHonoursContext(t *testing.T) {
	n := newFakeNet(t, testToken)
	n.kill()
	p, _ := newFakePuppet(t, n, testToken, wechatyservice.WithDialOptions(grpc.WithContextDialer(
		func(ctx context.Context, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() })))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := p.Start(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestSayOutcomes(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, ctx := loggedIn(t, n)

	t.Run("deadline after the request left is outcome unknown", func(t *testing.T) {
		n.svc.mu.Lock()
		n.svc.hangSay = true
		n.svc.mu.Unlock()
		defer func() { n.svc.mu.Lock(); n.svc.hangSay = false; n.svc.mu.Unlock() }()
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		err := p.Say(sctx, fakeContact, "slow")
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err), "%v", err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "wechatyservice: ")
	})
	for _, tc := range []struct {
		code codes.Code
		want puppet.Outcome
	}{
		{codes.NotFound, puppet.Permanent},
		{codes.PermissionDenied, puppet.Permanent},
		{codes.InvalidArgument, puppet.Permanent},
		{codes.ResourceExhausted, puppet.NotSent},
		{codes.Internal, puppet.OutcomeUnknown},
	} {
		t.Run("service answers "+tc.code.String(), func(t *testing.T) {
			n.svc.mu.Lock()
			n.svc.sayCode = tc.code
			n.svc.mu.Unlock()
			defer func() { n.svc.mu.Lock(); n.svc.sayCode = codes.OK; n.svc.mu.Unlock() }()
			err := p.Say(ctx, fakeContact, "x")
			assert.Equal(t, tc.want, puppet.Classify(err), "%v", err)
			assert.Equal(t, tc.code, codeIn(err), "%v", err)
		})
	}
	t.Run("unknown target is permanent", func(t *testing.T) {
		err := p.Say(ctx, "nobody", "x")
		assert.Equal(t, puppet.Permanent, puppet.Classify(err), "%v", err)
		assert.ErrorIs(t, err, wechatyservice.ErrUnknownTarget)
		assert.Equal(t, puppet.Permanent, puppet.Classify(p.Say(ctx, "", "x")))
	})
}

// TestServerKilledThenBack: the stream breaks, the bot is logged out and
// Say is not sent while the service is down; when it is back the puppet
// reconnects by itself, logs in and sends again.
func TestServerKilledThenBack(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, logs := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)

	n.kill()
	errEv := waitEvent(t, ctx, p, puppet.EventError)
	assert.Contains(t, errEv.Err.Error(), "lost the event stream")
	out := waitEvent(t, ctx, p, puppet.EventLogout)
	assert.Equal(t, "disconnected", out.Data)
	err := p.Say(ctx, fakeContact, "while down")
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
	assert.ErrorIs(t, err, wechatyservice.ErrNotConnected)

	n.restart()
	in := waitEvent(t, ctx, p, puppet.EventLogin)
	assert.Equal(t, fakeSelf, in.Self)
	require.NoError(t, p.Say(ctx, fakeContact, "after"))
	assert.True(t, n.svc.wasDelivered(fakeContact, "after"))
	assert.NotContains(t, logs.String(), testToken)
	assert.Contains(t, logs.String(), "reconnected")
}

// TestConnectionBreaksAfterSend: the request reached the service, then the
// connection died before the answer. The message may have been delivered:
// outcome unknown, never "not sent".
func TestConnectionBreaksAfterSend(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, ctx := loggedIn(t, n)
	require.NoError(t, p.Say(ctx, fakeContact, "warm up the target list"))
	begun := make(chan struct{}, 1)
	n.svc.mu.Lock()
	n.svc.hangSay, n.svc.sayBegun = true, begun
	n.svc.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- p.Say(ctx, fakeContact, "in flight") }()
	select {
	case <-begun:
	case <-ctx.Done():
		t.Fatal("the Say never reached the service")
	}
	n.kill()
	err := <-errc
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err), "%v", err)
	assert.Equal(t, codes.Unavailable, codeIn(err), "%v", err)
}

// TestSayWhileConnectionGone: every call while the stream is down is not
// sent.
func TestSayWhileConnectionGone(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, _ := newFakePuppet(t, n, testToken, wechatyservice.WithBackoff(wechatyservice.Backoff{Base: time.Hour}))
	ctx := testCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)
	n.kill()
	waitEvent(t, ctx, p, puppet.EventLogout)
	// Whatever the puppet's state, a Say now must never claim an unknown
	// outcome: nothing can have left.
	err := p.Say(ctx, fakeContact, "x")
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
	err = p.Ding(ctx, "x")
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
	_, err = p.Rooms(ctx)
	assert.ErrorIs(t, err, puppet.ErrNotSent)
	_, err = p.Contacts(ctx)
	assert.ErrorIs(t, err, puppet.ErrNotSent)
}

func TestStopThenStartIsAReset(t *testing.T) {
	n := newFakeNet(t, testToken)
	p, _ := newFakePuppet(t, n, testToken)
	ctx := testCtx(t)
	for i := range 3 {
		require.NoError(t, p.Start(ctx), "round %d", i)
		waitEvent(t, ctx, p, puppet.EventLogin)
		require.NoError(t, p.Stop(ctx))
		assert.Equal(t, "stopped", waitEvent(t, ctx, p, puppet.EventLogout).Data)
	}
	n.svc.mu.Lock()
	defer n.svc.mu.Unlock()
	assert.Equal(t, 3, n.svc.starts)
	assert.False(t, n.svc.loggedIn, "Stop did not stop the account on the service")
}

func TestNewRejectsBadEndpoint(t *testing.T) {
	for _, ep := range []string{"", "  ", "a b:1", "a:1,b:2"} {
		_, err := wechatyservice.New(ep, puppet.NewSecret("t"), wechatyservice.WithNoTLS(true))
		assert.Error(t, err, "%q", ep)
	}
	p, err := wechatyservice.New("127.0.0.1:1", puppet.NewSecret("t"), wechatyservice.WithNoTLS(true))
	require.NoError(t, err)
	assert.Equal(t, "wechaty-puppet-service@127.0.0.1:1", p.Name())
	assert.Equal(t, "127.0.0.1:1", p.Endpoint())
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	assert.ErrorIs(t, p.Start(context.Background()), wechatyservice.ErrClosed)
	_, open := <-p.Events()
	assert.False(t, open)
}
