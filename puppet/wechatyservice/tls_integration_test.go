//go:build integration

package wechatyservice_test

// TLS against the real wechaty-puppet-service server (see
// integration_test.go for how the suite runs).

import (
	"strings"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fromEnv builds the puppet as the pool does, from an environment.
func fromEnv(t *testing.T, token string, env map[string]string) *wechatyservice.Puppet {
	t.Helper()
	p, err := puppet.New(wechatyservice.PuppetName, puppet.Config{
		Name: "svc-tls", Token: puppet.NewSecret(token), Getenv: func(k string) string { return env[k] },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p.(*wechatyservice.Puppet)
}

// storyOverTLS: login, a send delivered once, the puppet-level ding.
func storyOverTLS(t *testing.T, srv *servicetest.Server, p *wechatyservice.Puppet) {
	ctx := integrationCtx(t)
	require.NoError(t, p.Start(ctx))
	assert.Equal(t, srv.Self, waitEvent(t, ctx, p, puppet.EventLogin).Self)
	require.NoError(t, p.Say(ctx, servicetest.Contact, "over TLS"))
	srv.WaitDelivered(t, ctx, servicetest.Contact, "over TLS", 1)
	require.NoError(t, p.Ding(ctx, "tls-ding"))
	assert.Equal(t, "tls-ding", waitEvent(t, ctx, p, puppet.EventDong).Data)
}

// TestIntegrationTLSByDefault: a server with TLS on and its default
// certificate; the puppet is configured with nothing but the endpoint and
// an "insecure_" token, as a Wechaty client would be, and speaks TLS with
// the Wechaty root CA and the server name from the token.
func TestIntegrationTLSByDefault(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{TLS: &servicetest.Certs{}})
	p := fromEnv(t, srv.Token, map[string]string{wechatyservice.EnvEndpoint: srv.Endpoint})
	assert.Equal(t, "insecure", p.ServerName())
	storyOverTLS(t, srv, p)
}

// TestIntegrationTLSOwnCA: a server with a certificate of the test's own
// CA; the puppet trusts that CA and checks the name, both from the
// environment. The wrong CA, the wrong name, and plaintext are refused
// with errors that say so.
func TestIntegrationTLSOwnCA(t *testing.T) {
	certs := servicetest.NewCerts(t, "hawechaty service", "svc.hawechaty.test")
	srv := servicetest.Start(t, servicetest.Config{TLS: &certs})
	env := map[string]string{
		wechatyservice.EnvEndpoint:      srv.Endpoint,
		wechatyservice.EnvTLSCACert:     strings.ReplaceAll(string(certs.CA), "\n", `\n`), // one line, as in a .env file
		wechatyservice.EnvTLSServerName: "svc.hawechaty.test",
	}
	storyOverTLS(t, srv, fromEnv(t, srv.Token, env))

	refused := func(t *testing.T, env map[string]string, want ...string) {
		t.Helper()
		p := fromEnv(t, srv.Token, env)
		ctx := integrationCtx(t)
		start := time.Now()
		err := p.Start(ctx)
		require.Error(t, err)
		t.Log(err)
		assert.Less(t, time.Since(start), 10*time.Second, "a refused handshake must not hang")
		for _, w := range want {
			assert.Contains(t, err.Error(), w)
		}
		assert.NotContains(t, err.Error(), srv.Token)
		assert.Zero(t, srv.Delivered(servicetest.Contact, "never"))
	}
	t.Run("Wechaty CA", func(t *testing.T) {
		refused(t, map[string]string{wechatyservice.EnvEndpoint: srv.Endpoint, wechatyservice.EnvTLSServerName: "svc.hawechaty.test"},
			wechatyservice.ErrTLS.Error(), "unknown authority", wechatyservice.EnvTLSCACert)
	})
	t.Run("wrong name", func(t *testing.T) {
		wrong := map[string]string{}
		for k, v := range env {
			wrong[k] = v
		}
		wrong[wechatyservice.EnvTLSServerName] = "other.hawechaty.test"
		refused(t, wrong, wechatyservice.ErrTLS.Error(), "not other.hawechaty.test", wechatyservice.EnvTLSServerName)
	})
	t.Run("plaintext client", func(t *testing.T) {
		refused(t, map[string]string{wechatyservice.EnvEndpoint: srv.Endpoint, wechatyservice.EnvNoTLS: "true"}, srv.Endpoint, "may want TLS")
	})
}

// TestIntegrationTLSToPlaintextServer: a TLS client meets a server without
// TLS and is told to turn TLS off.
func TestIntegrationTLSToPlaintextServer(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p := fromEnv(t, srv.Token, map[string]string{wechatyservice.EnvEndpoint: srv.Endpoint})
	err := p.Start(integrationCtx(t))
	require.ErrorIs(t, err, wechatyservice.ErrTLS)
	assert.Contains(t, err.Error(), wechatyservice.EnvNoTLS+"=true")
}
