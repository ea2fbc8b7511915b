package wechatyservice

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Factor: 1.6, Jitter: 0.2, Max: 120 * time.Second}
	tests := []struct {
		name    string
		b       Backoff
		attempt int
		r       float64
		want    time.Duration
	}{
		{"first, no jitter", b, 0, 0.5, time.Second},
		{"first, shortest", b, 0, 0, 800 * time.Millisecond},
		{"first, longest", b, 0, 1, 1200 * time.Millisecond},
		{"second", b, 1, 0.5, 1600 * time.Millisecond},
		{"third", b, 2, 0.5, 2560 * time.Millisecond},
		{"capped", b, 20, 0.5, 120 * time.Second},
		{"capped spreads down", b, 20, 0, 96 * time.Second},
		{"capped never above the cap", b, 20, 1, 120 * time.Second},
		{"huge attempt", b, math.MaxInt, 0.5, 120 * time.Second},
		{"negative attempt counts as 0", b, -3, 0.5, time.Second},
		{"r above 1 clamps", b, 0, 7, 1200 * time.Millisecond},
		{"r NaN clamps to 0", b, 0, math.NaN(), 800 * time.Millisecond},
		{"no base", Backoff{}, 5, 0.5, 0},
		{"factor below 1 is constant", Backoff{Base: time.Second, Factor: 0.5}, 4, 0.5, time.Second},
		{"jitter above 1 clamps", Backoff{Base: time.Second, Factor: 1, Jitter: 3}, 0, 0, 0},
		{"negative jitter is none", Backoff{Base: time.Second, Factor: 1, Jitter: -1}, 0, 0, time.Second},
		{"no cap saturates", Backoff{Base: time.Second, Factor: 10}, 100, 0.5, time.Duration(math.MaxInt64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.b.Delay(tt.attempt, tt.r)
			assert.InDelta(t, float64(tt.want), float64(got), float64(time.Microsecond), "got %v want %v", got, tt.want)
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		code codes.Code
		sent bool
		want puppet.Outcome
	}{
		{codes.OK, true, puppet.Delivered},
		{codes.Unavailable, false, puppet.NotSent},            // connection down before send
		{codes.Unavailable, true, puppet.OutcomeUnknown},      // connection broke after send
		{codes.DeadlineExceeded, false, puppet.NotSent},       // deadline while connecting
		{codes.DeadlineExceeded, true, puppet.OutcomeUnknown}, // deadline after send
		{codes.Canceled, false, puppet.NotSent},
		{codes.Canceled, true, puppet.OutcomeUnknown},
		{codes.Unknown, true, puppet.OutcomeUnknown},
		{codes.Internal, true, puppet.OutcomeUnknown},
		{codes.NotFound, true, puppet.Permanent},
		{codes.InvalidArgument, true, puppet.Permanent},
		{codes.PermissionDenied, true, puppet.Permanent},
		{codes.PermissionDenied, false, puppet.Permanent},
		{codes.Unimplemented, true, puppet.Permanent},
		{codes.Unauthenticated, true, puppet.NotSent},
		{codes.ResourceExhausted, true, puppet.NotSent},
		{codes.FailedPrecondition, true, puppet.NotSent},
		{codes.Code(999), true, puppet.OutcomeUnknown},
	}
	for _, tt := range tests {
		err := outcome(tt.code, tt.sent)
		if err != nil {
			err = fmt.Errorf("x: %w", err)
		}
		assert.Equal(t, tt.want, puppet.Classify(err), "%s sent=%v", tt.code, tt.sent)
	}
}

func TestRPCErrorRedactsToken(t *testing.T) {
	const tok = "s3cret"
	err := newRPCError("start", "127.0.0.1:9", status.Errorf(codes.Unauthenticated, "Invalid Wechaty TOKEN %q (%s)", tok, tok), tok)
	assert.Equal(t, codes.Unauthenticated, err.Code)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.NotContains(t, err.Error(), tok)
	assert.Contains(t, err.Error(), "wechatyservice: start at 127.0.0.1:9: Unauthenticated: Invalid Wechaty TOKEN")
	assert.Equal(t, "abc", redact("abc", ""), "an empty token redacts nothing")

	dl := newRPCError("say", "e", context.DeadlineExceeded, tok)
	assert.Equal(t, codes.DeadlineExceeded, dl.Code)
	assert.ErrorIs(t, dl, context.DeadlineExceeded)
	cn := newRPCError("say", "e", fmt.Errorf("x: %w", context.Canceled), tok)
	assert.Equal(t, codes.Canceled, cn.Code)
	assert.ErrorIs(t, cn, context.Canceled)
	other := newRPCError("say", "e", errors.New("plain"), tok)
	assert.Equal(t, codes.Unknown, other.Code)
	assert.NoError(t, other.Unwrap())
}

// TestCallThatNeverLeftIsNotSent: the connection cannot be made, so gRPC
// fails the call with Unavailable before the request is written; the
// sent-tracker sees no payload go out.
func TestCallThatNeverLeftIsNotSent(t *testing.T) {
	refuse := func(context.Context, string) (net.Conn, error) { return nil, errors.New("connection refused") }
	p, err := New("passthrough:///down", puppet.NewSecret("tok"), WithNoTLS(true), WithDialOptions(grpc.WithContextDialer(refuse)))
	if !assert.NoError(t, err) {
		return
	}
	defer p.Close()
	conn, err := grpc.NewClient(p.endpoint, p.dialOptions()...)
	if !assert.NoError(t, err) {
		return
	}
	defer conn.Close()
	client := pb.NewPuppetClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.call(ctx, "say", func(ctx context.Context) error {
		_, err := client.MessageSendText(ctx, &pbp.MessageSendTextRequest{ConversationId: "a", Text: "x"})
		return err
	})
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
	var rpc *RPCError
	if assert.ErrorAs(t, err, &rpc) {
		assert.Equal(t, codes.Unavailable, rpc.Code)
		assert.Equal(t, "passthrough:///down", rpc.Endpoint)
	}
}

func TestDecodeEvent(t *testing.T) {
	ev := func(typ pbp.EventType, payload string) *pbp.EventResponse {
		return &pbp.EventResponse{Type: typ, Payload: payload}
	}
	tests := []struct {
		name    string
		in      *pbp.EventResponse
		want    wire
		wantErr string
	}{
		{"login", ev(pbp.EventType_EVENT_TYPE_LOGIN, `{"contactId":"me"}`), wire{Kind: puppet.EventLogin, Self: "me"}, ""},
		{"login without id", ev(pbp.EventType_EVENT_TYPE_LOGIN, `{}`), wire{}, "login event without contactId"},
		{"logout", ev(pbp.EventType_EVENT_TYPE_LOGOUT, `{"contactId":"me","data":"kicked"}`), wire{Kind: puppet.EventLogout, Self: "me", Data: "kicked"}, ""},
		{"scan", ev(pbp.EventType_EVENT_TYPE_SCAN, `{"qrcode":"https://qr","status":2}`), wire{Kind: puppet.EventScan, Data: "https://qr", Scan: puppet.ScanWaiting}, ""},
		{"scan scanned", ev(pbp.EventType_EVENT_TYPE_SCAN, `{"status":3}`), wire{Kind: puppet.EventScan, Scan: puppet.ScanScanned}, ""},
		{"friendship", ev(pbp.EventType_EVENT_TYPE_FRIENDSHIP, `{"friendshipId":"f1"}`), wire{Kind: puppet.EventFriendAdded, FriendshipID: "f1"}, ""},
		{"friendship without id", ev(pbp.EventType_EVENT_TYPE_FRIENDSHIP, `{}`), wire{}, "friendship event without friendshipId"},
		{"message", ev(pbp.EventType_EVENT_TYPE_MESSAGE, `{"messageId":"m1"}`), wire{Kind: puppet.EventMessage, MessageID: "m1"}, ""},
		{"message without id", ev(pbp.EventType_EVENT_TYPE_MESSAGE, `{"messageId":""}`), wire{}, "message event without messageId"},
		{"dong", ev(pbp.EventType_EVENT_TYPE_DONG, `{"data":"probe-1"}`), wire{Kind: puppet.EventDong, Data: "probe-1"}, ""},
		{"dong with object data", ev(pbp.EventType_EVENT_TYPE_DONG, `{"data":{"n":1}}`), wire{Kind: puppet.EventDong, Data: `{"n":1}`}, ""},
		{"heartbeat", ev(pbp.EventType_EVENT_TYPE_HEARTBEAT, `{"data":"alive"}`), wire{Kind: puppet.EventHeartbeat, Data: "alive"}, ""},
		{"heartbeat without payload", ev(pbp.EventType_EVENT_TYPE_HEARTBEAT, ``), wire{Kind: puppet.EventHeartbeat}, ""},
		{"error with data", ev(pbp.EventType_EVENT_TYPE_ERROR, `{"data":"boom"}`), wire{Kind: puppet.EventError, Data: "boom"}, ""},
		{"error with gerror", ev(pbp.EventType_EVENT_TYPE_ERROR, `{"gerror":"{\"message\":\"boom\"}"}`), wire{Kind: puppet.EventError, Data: `{"message":"boom"}`}, ""},
		{"ignored type", ev(pbp.EventType_EVENT_TYPE_READY, `{"data":"ready"}`), wire{}, ""},
		{"unknown type", ev(pbp.EventType(4711), `garbage`), wire{}, ""},
		{"bad json", ev(pbp.EventType_EVENT_TYPE_LOGIN, `{"contactId":`), wire{}, "login event: bad payload"},
		{"wrong json type", ev(pbp.EventType_EVENT_TYPE_LOGIN, `[1,2]`), wire{}, "bad payload"},
		{"nil", nil, wire{}, "nil event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEvent(tt.in)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), "wechatyservice: ")
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(int32(25), `{"contactId":"me"}`)
	f.Add(int32(2), `{"messageId":"m"}`)
	f.Add(int32(3), `{"data":[1]}`)
	f.Fuzz(func(t *testing.T, typ int32, payload string) {
		w, err := decodeEvent(&pbp.EventResponse{Type: pbp.EventType(typ), Payload: payload})
		if err == nil && w.Kind == puppet.EventMessage && w.MessageID == "" {
			t.Fatal("message without ID accepted")
		}
		if err == nil && w.Kind == puppet.EventFriendAdded && w.FriendshipID == "" {
			t.Fatal("friendship without ID accepted")
		}
	})
}

func TestMessageFrom(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	m := messageFrom(&pbp.MessagePayloadResponse{Id: "m1", TalkerId: "a", ListenerId: "b", RoomId: "r", Text: "hi", ReceiveTime: timestamppb.New(at)})
	assert.Equal(t, &puppet.Message{ID: "m1", From: "a", To: "b", Room: "r", Text: "hi", Time: at}, m)
	//lint:ignore SA1019 the fallback for old services is under test
	old := messageFrom(&pbp.MessagePayloadResponse{Id: "m2", TimestampDeprecated: uint64(at.UnixMilli())})
	assert.Equal(t, at, old.Time)
	//lint:ignore SA1019 the fallback for old services is under test
	huge := messageFrom(&pbp.MessagePayloadResponse{Id: "m3", TimestampDeprecated: math.MaxUint64})
	assert.True(t, huge.Time.IsZero(), "an absurd timestamp is dropped")
	assert.Equal(t, "", messageFrom(&pbp.MessagePayloadResponse{}).ID)
}

func TestEndpointFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		getenv  func(string) string
		index   int
		want    string
		wantErr string
	}{
		{"shared", env("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:8788"), 3, "127.0.0.1:8788", ""},
		{"own wins", env("WECHATY_PUPPET_SERVICE_ENDPOINT", "a:1", "WECHATY_PUPPET_SERVICE_ENDPOINT_1", "b:2"), 1, "b:2", ""},
		{"own of another index ignored", env("WECHATY_PUPPET_SERVICE_ENDPOINT", "a:1", "WECHATY_PUPPET_SERVICE_ENDPOINT_1", "b:2"), 0, "a:1", ""},
		{"trimmed", env("WECHATY_PUPPET_SERVICE_ENDPOINT_0", " b:2 \n"), 0, "b:2", ""},
		{"none names both variables", env(), 2, "", "WECHATY_PUPPET_SERVICE_ENDPOINT_2 or WECHATY_PUPPET_SERVICE_ENDPOINT"},
		{"a list is not an endpoint", env("WECHATY_PUPPET_SERVICE_ENDPOINT", "a:1,b:2"), 0, "", "is not an endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Endpoint(tt.getenv, tt.index)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "from-os:1")
	got, err := Endpoint(nil, 0)
	assert.NoError(t, err)
	assert.Equal(t, "from-os:1", got)
}

func TestFactoryRegistered(t *testing.T) {
	assert.Contains(t, puppet.Names(), PuppetName)
	getenv := func(k string) string {
		return map[string]string{"WECHATY_PUPPET_SERVICE_ENDPOINT_1": "127.0.0.1:8788"}[k]
	}
	p, err := puppet.New(PuppetName, puppet.Config{Name: "svc#1", Index: 1, Token: puppet.NewSecret("insecure_tok-123"), Getenv: getenv})
	require.NoError(t, err)
	assert.Equal(t, "svc#1", p.Name())
	assert.Equal(t, "insecure", p.(*Puppet).ServerName(), "TLS on by default, named by the token")
	assert.Equal(t, "svc#1(127.0.0.1:8788)", fmt.Sprint(p))
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", p, p, p), "tok-123")
	assert.NoError(t, p.Close())

	_, err = puppet.New(PuppetName, puppet.Config{Index: 0, Token: puppet.NewSecret("tok-123"), Getenv: getenv})
	assert.ErrorIs(t, err, ErrNoEndpoint)
	_, err = puppet.New(PuppetName, puppet.Config{Index: 1, Getenv: getenv})
	assert.ErrorContains(t, err, "has no token")
	p, err = puppet.New(PuppetName, puppet.Config{Index: 1, Token: puppet.NewSecret("insecure_t"), Getenv: getenv})
	require.NoError(t, err)
	assert.Equal(t, "wechaty-puppet-service#1", p.Name())
	assert.NoError(t, p.Close())
}
