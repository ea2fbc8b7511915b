package wechatyservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/puppet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Errors of this package. Each is wrapped with the puppet's name and
// endpoint, never its token.
var (
	// ErrClosed is returned by calls on a puppet after Close.
	ErrClosed = errors.New("wechatyservice: closed")
	// ErrNotConnected is returned (wrapped with puppet.ErrNotSent) by calls
	// on a puppet that is stopped, or whose event stream is down.
	ErrNotConnected = errors.New("wechatyservice: not connected")
	// ErrNotLoggedIn is returned (wrapped with puppet.ErrNotSent) by Say
	// while the account is not logged in.
	ErrNotLoggedIn = errors.New("wechatyservice: not logged in")
	// ErrUnknownTarget is returned (wrapped with puppet.ErrPermanent) by Say
	// to an ID that is neither a contact nor a room of the bot.
	ErrUnknownTarget = errors.New("wechatyservice: no such contact or room")
	// ErrNotFriend is returned (wrapped with puppet.ErrNotFriend) by Say,
	// before anything is sent, to a contact the service lists but says is
	// not the account's friend (see Puppet.Contacts).
	ErrNotFriend = errors.New("wechatyservice: not a friend")
	// ErrUnauthenticated is returned by Start when the service refuses the
	// token.
	ErrUnauthenticated = errors.New("wechatyservice: the service refused the token")
	// ErrNoEndpoint is returned by the factory when the environment names
	// no endpoint for the puppet.
	ErrNoEndpoint = errors.New("wechatyservice: no endpoint")
	// ErrBadEvent is wrapped by the EventError of a stream event the
	// puppet cannot read (a payload that does not decode, a login without
	// a contact ID).
	ErrBadEvent = errors.New("wechatyservice: unreadable event")
)

// RPCError is a failed call to the puppet service. Its fields have the
// token removed (Op can quote IDs the service sent), so it is safe to log. It carries the gRPC status code
// (status.Code works on it) and unwraps to context.DeadlineExceeded or
// context.Canceled when the code says so.
type RPCError struct {
	Op       string     // what the puppet was doing, for example `say to "alice"`
	Endpoint string     // the service's address
	Code     codes.Code // the gRPC status code
	Message  string     // the status message, token redacted
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("wechatyservice: %s at %s: %s: %s", e.Op, e.Endpoint, e.Code, e.Message)
}

// GRPCStatus returns the status with the redacted message.
func (e *RPCError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// Unwrap returns the context error that matches the code, if any.
func (e *RPCError) Unwrap() error {
	switch e.Code {
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	case codes.Canceled:
		return context.Canceled
	}
	return nil
}

// newRPCError turns any error of a gRPC call into an RPCError without the
// token in its message.
func newRPCError(op, endpoint string, err error, token string) *RPCError {
	st, _ := status.FromError(err) // a non-status error becomes codes.Unknown with err's text
	if errors.Is(err, context.DeadlineExceeded) {
		st = status.New(codes.DeadlineExceeded, err.Error())
	} else if errors.Is(err, context.Canceled) && st.Code() == codes.Unknown {
		st = status.New(codes.Canceled, err.Error())
	}
	return &RPCError{Op: redact(op, token), Endpoint: redact(endpoint, token), Code: st.Code(), Message: redact(st.Message(), token)}
}

// redact removes every occurrence of token from s: as it is, and as a URL
// carries it (query or path escaped), since services put login links in
// scan events. It is applied to every string the service sends, except
// the text of messages, which is the users' content.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "[REDACTED]")
	for _, form := range [...]string{url.QueryEscape(token), url.PathEscape(token), jsonEscape(token)} {
		if form != token {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	return s
}

// jsonEscape is s as it appears inside a JSON string (dataString encodes
// non-string data as JSON).
func jsonEscape(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	q := strings.TrimSuffix(b.String(), "\n")
	return q[1 : len(q)-1]
}

// outcome classifies a failed call for the pool: which of puppet's
// ErrNotSent, ErrOutcomeUnknown and ErrPermanent it wraps. sent tells
// whether the request message was handed to the connection.
//
//   - A code that says the request can never succeed as asked (NotFound,
//     InvalidArgument, PermissionDenied, Unimplemented, OutOfRange) is
//     permanent.
//   - A request that never left is not sent, whatever the code
//     (Unavailable while connecting, a deadline that ended before the
//     connection was up, a closing client).
//   - A request that left and was refused by the service before it acted
//     (Unauthenticated, ResourceExhausted, FailedPrecondition) is not sent.
//   - Anything else after the request left (DeadlineExceeded, Unavailable
//     because the connection broke, Unknown, Internal…) may have been
//     delivered: outcome unknown.
//
// No service error means "not a friend, not sent" (puppet.ErrNotFriend):
// the service passes a puppet's refusal on as Unknown with the puppet's
// own words, and WeChat itself takes a message to a non-friend and
// answers later with a system message ("sent, but refused"), so such an
// error can come after the message left. Say refuses a contact the
// service says is not a friend before sending instead (ErrNotFriend).
func outcome(code codes.Code, sent bool) error {
	switch code {
	case codes.OK:
		return nil
	case codes.NotFound, codes.InvalidArgument, codes.PermissionDenied, codes.Unimplemented, codes.OutOfRange:
		return puppet.ErrPermanent
	}
	if !sent {
		return puppet.ErrNotSent
	}
	switch code {
	case codes.Unauthenticated, codes.ResourceExhausted, codes.FailedPrecondition:
		return puppet.ErrNotSent
	}
	return puppet.ErrOutcomeUnknown
}

// sentKey marks a call's context with the flag that sentTracker sets.
type sentKey struct{}

// withSentFlag returns a context whose call sets *flag once the request
// message has been handed to the connection.
func withSentFlag(ctx context.Context, flag *atomic.Bool) context.Context {
	return context.WithValue(ctx, sentKey{}, flag)
}

// sentTracker is a stats.Handler that tells whether a call's request left:
// gRPC reports OutPayload only after the message was written to the
// transport.
type sentTracker struct{}

var _ stats.Handler = sentTracker{}

func (sentTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (sentTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if p, ok := s.(*stats.OutPayload); ok && p.IsClient() {
		if flag, ok := ctx.Value(sentKey{}).(*atomic.Bool); ok {
			flag.Store(true)
		}
	}
}

func (sentTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (sentTracker) HandleConn(context.Context, stats.ConnStats) {}
