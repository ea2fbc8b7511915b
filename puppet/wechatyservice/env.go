package wechatyservice

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hawechaty/hawechaty/puppet"
)

// PuppetName is the name under which this package registers its factory,
// as used in HA_WECHATY_PUPPET.
const PuppetName = "wechaty-puppet-service"

// Environment variables that name the service endpoint.
const (
	// EnvEndpoint is the endpoint for every wechaty-puppet-service puppet
	// that has no endpoint of its own.
	EnvEndpoint = "WECHATY_PUPPET_SERVICE_ENDPOINT"
	// EnvEndpointPrefix followed by the puppet's 0-based position in
	// HA_WECHATY_PUPPET (the same position that pairs it with its token in
	// HA_WECHATY_PUPPET_TOKEN) is that puppet's own endpoint, for example
	// WECHATY_PUPPET_SERVICE_ENDPOINT_1.
	EnvEndpointPrefix = EnvEndpoint + "_"
)

// Environment variables about TLS, as Wechaty's clients read them. Each
// may also be set for one puppet with its 0-based position in
// HA_WECHATY_PUPPET as a suffix ("_1"), which wins over the shared one.
const (
	// EnvTLSCACert is the PEM of the CA that signs the service's
	// certificate (default: the Wechaty root CA). A literal "\n" stands for
	// a newline, so that the PEM fits on one line.
	EnvTLSCACert = "WECHATY_PUPPET_SERVICE_TLS_CA_CERT"
	// EnvTLSServerName is the name the service's certificate must carry
	// (default: the token's prefix, ServerNameOf).
	EnvTLSServerName = "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME"
	// EnvNoTLS set to "true" speaks plaintext to the service (one started
	// with WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true).
	EnvNoTLS = "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT"
)

// TLSOptions returns the options that the TLS variables of the
// environment set for the puppet at position index in HA_WECHATY_PUPPET
// (see EnvTLSCACert, EnvTLSServerName, EnvNoTLS). A value of EnvNoTLS that
// is not a boolean is an error. getenv nil means os.Getenv.
func TLSOptions(getenv func(string) string, index int) ([]Option, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var opts []Option
	if v, name := lookup(getenv, EnvNoTLS, index); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("wechatyservice: %s=%q is not true or false", name, v)
		}
		opts = append(opts, WithNoTLS(off))
	}
	if v, _ := lookup(getenv, EnvTLSCACert, index); v != "" {
		opts = append(opts, WithTLSCACert([]byte(strings.ReplaceAll(v, `\n`, "\n"))))
	}
	if v, _ := lookup(getenv, EnvTLSServerName, index); v != "" {
		opts = append(opts, WithTLSServerName(v))
	}
	return opts, nil
}

// lookup reads NAME_<index>, else NAME, trimmed; it returns the value and
// the variable it came from.
func lookup(getenv func(string) string, name string, index int) (string, string) {
	own := name + "_" + strconv.Itoa(index)
	if v := strings.TrimSpace(getenv(own)); v != "" {
		return v, own
	}
	return strings.TrimSpace(getenv(name)), name
}

// Endpoint returns the endpoint ("host:port") of the puppet at position
// index in HA_WECHATY_PUPPET: WECHATY_PUPPET_SERVICE_ENDPOINT_<index> if
// set, else WECHATY_PUPPET_SERVICE_ENDPOINT. Neither set is ErrNoEndpoint:
// the puppet never asks a discovery service. getenv nil means os.Getenv.
func Endpoint(getenv func(string) string, index int) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	own := EnvEndpointPrefix + strconv.Itoa(index)
	if v := strings.TrimSpace(getenv(own)); v != "" {
		return v, checkEndpoint(own, v)
	}
	if v := strings.TrimSpace(getenv(EnvEndpoint)); v != "" {
		return v, checkEndpoint(EnvEndpoint, v)
	}
	return "", fmt.Errorf("%w for puppet #%d: set %s or %s", ErrNoEndpoint, index, own, EnvEndpoint)
}

// checkEndpoint rejects values that cannot be a gRPC target.
func checkEndpoint(name, v string) error {
	if strings.ContainsAny(v, " \t\r\n,") {
		return fmt.Errorf("wechatyservice: %s=%q is not an endpoint (want host:port)", name, v)
	}
	return nil
}

func init() {
	puppet.Register(PuppetName, newFromConfig)
}

// newFromConfig is the registered factory.
func newFromConfig(cfg puppet.Config) (puppet.Puppet, error) {
	endpoint, err := Endpoint(cfg.Getenv, cfg.Index)
	if err != nil {
		return nil, err
	}
	if cfg.Token.IsZero() {
		return nil, fmt.Errorf("wechatyservice: puppet #%d at %s has no token (HA_WECHATY_PUPPET_TOKEN)", cfg.Index, endpoint)
	}
	name := cfg.Name
	if name == "" {
		name = fmt.Sprintf("%s#%d", PuppetName, cfg.Index)
	}
	opts, err := TLSOptions(cfg.Getenv, cfg.Index)
	if err != nil {
		return nil, err
	}
	return New(endpoint, cfg.Token, append(opts, WithName(name))...)
}
