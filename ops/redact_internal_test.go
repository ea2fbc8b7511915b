package ops

import (
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
)

func TestScrub(t *testing.T) {
	sc := newScrubber([]puppet.Secret{puppet.NewSecret("s3cr3t-value"), {}})
	for in, want := range map[string]string{
		// The pool's own reasons pass unchanged.
		"":                                       "",
		"added":                                  "added",
		"no sign of life for 2m0s after 3 dings": "no sign of life for 2m0s after 3 dings",
		"3 consecutive failed sends":             "3 consecutive failed sends",
		"logout: stopped":                        "logout: stopped",
		"scan: waiting for a QR scan":            "scan: waiting for a QR scan",
		"reset failed: the service refused the token": "reset failed: the service refused the token",
		// Credentials go.
		"dial s3cr3t-value failed":          "dial [REDACTED] failed",
		"token=abc":                         "token=[REDACTED]",
		"TOKEN: abc def":                    "TOKEN: [REDACTED] def",
		`{"apiKey":"k-1","x":1}`:            `{"apiKey":"[REDACTED]","x":1}`,
		"puppet_token=abc&next=1":           "puppet_token=[REDACTED]&next=1",
		"client_secret = xyz;":              "client_secret = [REDACTED];",
		"Authorization: Basic dXNlcjpwYXNz": "Authorization: [REDACTED] [REDACTED]",
		"bearer abc.def":                    "bearer [REDACTED]",
		"grpc://user:pw@host:8788/x":        "grpc://[REDACTED]@host:8788/x",
		"wss://host/path?password=p%40ss":   "wss://host/path?password=[REDACTED]",
		"line one\nline two\ttab":           "line one line two tab",
	} {
		assert.Equal(t, want, sc.scrub(in), "%q", in)
	}
}
