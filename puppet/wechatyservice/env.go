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
	return New(endpoint, cfg.Token, WithName(name))
}
