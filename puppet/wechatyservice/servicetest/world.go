package servicetest

import (
	"fmt"
	"strings"
	"testing"
)

// StartWorld starts n servers whose bots "bot-0" … "bot-<n-1>" share one
// world: each bot's server knows the others as contacts and as members of
// Room. It fails t if a server does not come up.
func StartWorld(t testing.TB, n int) []*Server {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bot-%d", i)
	}
	servers := make([]*Server, n)
	for i, id := range ids {
		var peers []string
		for _, other := range ids {
			if other != id {
				peers = append(peers, other)
			}
		}
		servers[i] = Start(t, Config{Self: id, Peers: peers})
	}
	return servers
}

// Env returns the environment that puts one wechaty-puppet-service puppet
// per server behind the pool, in order: HA_WECHATY_PUPPET,
// HA_WECHATY_PUPPET_TOKEN, WECHATY_PUPPET_SERVICE_ENDPOINT_<i>, and
// WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT_<i>=true for a server
// without TLS (a server with TLS and its own CA needs
// WECHATY_PUPPET_SERVICE_TLS_CA_CERT too). Use it
// with t.Setenv or as a getenv map. (The tokens servicetest makes contain
// no ':'.)
func Env(servers ...*Server) map[string]string {
	names := make([]string, len(servers))
	tokens := make([]string, len(servers))
	env := map[string]string{}
	for i, s := range servers {
		names[i] = "wechaty-puppet-service"
		tokens[i] = s.Token
		env[fmt.Sprintf("WECHATY_PUPPET_SERVICE_ENDPOINT_%d", i)] = s.Endpoint
		if !s.TLS {
			env[fmt.Sprintf("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT_%d", i)] = "true"
		}
	}
	env["HA_WECHATY_PUPPET"] = strings.Join(names, ":")
	env["HA_WECHATY_PUPPET_TOKEN"] = strings.Join(tokens, ":")
	return env
}
