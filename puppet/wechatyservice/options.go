package wechatyservice

import (
	"log/slog"
	"strings"
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
	tls         tlsSettings
	uploadAbove int // SendFile uploads bytes above this size (UploadThreshold)
}

func defaultOptions() options {
	return options{
		backoff:     DefaultBackoff,
		callTimeout: 30 * time.Second,
		logger:      slog.New(slog.DiscardHandler),
		uploadAbove: UploadThreshold,
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

// WithDialOptions adds gRPC dial options, applied after the defaults (TLS
// as the TLS options say); a grpc.WithTransportCredentials here replaces
// the puppet's own transport.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return optionFunc(func(o *options) { o.dial = append(o.dial, opts...) })
}

// WithTLSCACert makes the puppet trust the CA certificates in pem (PEM)
// instead of the Wechaty root CA, as WECHATY_PUPPET_SERVICE_TLS_CA_CERT
// does. New fails with ErrBadCACert if pem holds no certificate.
func WithTLSCACert(pem []byte) Option {
	return optionFunc(func(o *options) {
		if len(pem) > 0 {
			o.tls.caPEM = append([]byte(nil), pem...)
		}
	})
}

// WithTLSServerName sets the name the service's certificate must carry
// (its DNS name or, when it has none, its common name), as
// WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME does. The default is the token's
// prefix (ServerNameOf).
func WithTLSServerName(name string) Option {
	return optionFunc(func(o *options) {
		if name = strings.TrimSpace(name); name != "" {
			o.tls.serverName = name
		}
	})
}

// WithNoTLS(true) speaks plaintext gRPC to the service, as
// WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true does: for a service
// started with TLS disabled (WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER),
// on a network you trust. The token then crosses the network in clear.
func WithNoTLS(off bool) Option {
	return optionFunc(func(o *options) { o.tls.off = off })
}
