package wechatyservice

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"
)

// Option configures a Puppet built by New.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	name        string
	backoff     Backoff
	callTimeout time.Duration
	logger      *slog.Logger
	dial        []grpc.DialOption
}

func defaultOptions() options {
	return options{
		backoff:     DefaultBackoff,
		callTimeout: 30 * time.Second,
		logger:      slog.New(slog.DiscardHandler),
	}
}

// WithName sets the puppet's name in the pool (default
// "wechaty-puppet-service@<endpoint>").
func WithName(name string) Option {
	return optionFunc(func(o *options) {
		if name != "" {
			o.name = name
		}
	})
}

// WithBackoff sets the backoff between reconnection attempts after the
// event stream broke (default DefaultBackoff).
func WithBackoff(b Backoff) Option {
	return optionFunc(func(o *options) { o.backoff = b })
}

// WithCallTimeout bounds each call to the service whose context has no
// deadline of its own, and each reconnection attempt (default 30 s).
func WithCallTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.callTimeout = d
		}
	})
}

// WithLogger makes the puppet log connection changes (default: no logs).
// Logs never contain the token.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithDialOptions adds gRPC dial options, applied after the defaults. The
// default transport is plaintext (a puppet service with TLS disabled, as
// wechaty-puppet-service runs with WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER);
// pass grpc.WithTransportCredentials for TLS.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return optionFunc(func(o *options) { o.dial = append(o.dial, opts...) })
}
