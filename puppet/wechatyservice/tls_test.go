package wechatyservice_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerNameOf(t *testing.T) {
	for token, want := range map[string]string{
		"insecure_4c8d-77":               "insecure",
		"puppet_padlocal_9f0e":           "puppet_padlocal",
		"PUPPET_WXWORK_abc":              "puppet_wxwork",
		"4c8d-77":                        "",
		"_leading":                       "",
		"":                               "",
		"a_b_c_":                         "a_b_c",
		"uuid_63d6b063-01e5-48b9-86ed-9": "uuid",
	} {
		assert.Equal(t, want, wechatyservice.ServerNameOf(token), "%q", token)
	}
}

func TestWechatyRootCA(t *testing.T) {
	block, _ := pem.Decode(wechatyservice.WechatyRootCA())
	require.NotNil(t, block)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, "wechaty-root-ca", ca.Subject.CommonName)
	assert.True(t, ca.IsCA)
}

// TestNewTLSSettings: TLS is on by default and needs a server name; the
// options and the environment set it, turn it off, or name another CA.
func TestNewTLSSettings(t *testing.T) {
	certs := servicetest.NewCerts(t, "svc.test")
	oneLine := strings.ReplaceAll(string(certs.CA), "\n", `\n`)
	tests := []struct {
		name, token string
		env         map[string]string
		opts        []wechatyservice.Option
		wantName    string // "" with no wantErr: plaintext
		wantErr     error
		wantText    string
	}{
		{name: "default: the token's prefix", token: "insecure_x", wantName: "insecure"},
		{name: "provider prefix", token: "puppet_padlocal_x", wantName: "puppet_padlocal"},
		{name: "no prefix, no name", token: "x", wantErr: wechatyservice.ErrNoServerName, wantText: "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME"},
		{name: "option names it", token: "x", opts: []wechatyservice.Option{wechatyservice.WithTLSServerName("svc.test")}, wantName: "svc.test"},
		{name: "env names it", token: "insecure_x", env: map[string]string{"WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME": "svc.test"}, wantName: "svc.test"},
		{name: "own env wins", token: "x", env: map[string]string{"WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME": "a", "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME_0": "b"}, wantName: "b"},
		{name: "env turns TLS off", token: "x", env: map[string]string{"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}},
		{name: "false keeps it on", token: "insecure_x", env: map[string]string{"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "false"}, wantName: "insecure"},
		{name: "not a boolean", token: "x", env: map[string]string{"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT_0": "yes please"}, wantText: `WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT_0="yes please" is not true or false`},
		{name: "option turns TLS off", token: "x", opts: []wechatyservice.Option{wechatyservice.WithNoTLS(true)}},
		{name: "CA on one line", token: "insecure_x", env: map[string]string{"WECHATY_PUPPET_SERVICE_TLS_CA_CERT": oneLine}, wantName: "insecure"},
		{name: "CA that is not PEM", token: "insecure_x", env: map[string]string{"WECHATY_PUPPET_SERVICE_TLS_CA_CERT": "not a cert"}, wantErr: wechatyservice.ErrBadCACert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := wechatyservice.TLSOptions(func(k string) string { return tt.env[k] }, 0)
			var p *wechatyservice.Puppet
			if err == nil {
				p, err = wechatyservice.New("127.0.0.1:1", puppet.NewSecret(tt.token), append(opts, tt.opts...)...)
			}
			if tt.wantErr != nil || tt.wantText != "" {
				require.Error(t, err)
				if tt.wantErr != nil {
					assert.ErrorIs(t, err, tt.wantErr)
				}
				assert.Contains(t, err.Error(), tt.wantText)
				return
			}
			require.NoError(t, err)
			defer p.Close()
			assert.Equal(t, tt.wantName, p.ServerName())
		})
	}
}

// serverTLS is a server's TLS configuration with certs.
func serverTLS(t *testing.T, c servicetest.Certs) *tls.Config {
	pair, err := tls.X509KeyPair(c.Cert, c.Key)
	require.NoError(t, err)
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// TestTLSWithTheService: over TLS, with certificates that name the service
// by DNS name or, as Wechaty's CA does, only by common name, the puppet
// logs in and sends; a wrong CA, a wrong name or a service without TLS
// fail Start at once with ErrTLS naming what to check.
func TestTLSWithTheService(t *testing.T) {
	ctx := testCtx(t)
	withSAN := servicetest.NewCerts(t, "ignored", "svc.test")
	cnOnly := servicetest.NewCerts(t, "Svc-CN")
	other := servicetest.NewCerts(t, "svc.test", "svc.test")
	for _, tc := range []struct {
		name   string
		certs  servicetest.Certs
		opts   []wechatyservice.Option
		plain  bool   // the service speaks plaintext
		reason string // "" when Start must work
	}{
		{name: "DNS name", certs: withSAN, opts: []wechatyservice.Option{wechatyservice.WithTLSCACert(withSAN.CA), wechatyservice.WithTLSServerName("svc.test")}},
		{name: "common name, any case", certs: cnOnly, opts: []wechatyservice.Option{wechatyservice.WithTLSCACert(cnOnly.CA), wechatyservice.WithTLSServerName("svc-cn")}},
		{name: "wrong CA", certs: withSAN, opts: []wechatyservice.Option{wechatyservice.WithTLSCACert(other.CA), wechatyservice.WithTLSServerName("svc.test")}, reason: "unknown authority"},
		{name: "Wechaty CA by default", certs: withSAN, opts: []wechatyservice.Option{wechatyservice.WithTLSServerName("svc.test")}, reason: "unknown authority"},
		{name: "wrong name", certs: withSAN, opts: []wechatyservice.Option{wechatyservice.WithTLSCACert(withSAN.CA), wechatyservice.WithTLSServerName("elsewhere.test")}, reason: "elsewhere.test"},
		{name: "wrong common name", certs: cnOnly, opts: []wechatyservice.Option{wechatyservice.WithTLSCACert(cnOnly.CA)}, reason: `"Svc-CN", not "insecure"`},
		{name: "service without TLS", plain: true, reason: "does not speak TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n *fakeNet
			if tc.plain {
				n = newFakeNet(t, testToken)
			} else {
				n = newFakeNetTLS(t, testToken, serverTLS(t, tc.certs))
			}
			p, _ := newFakePuppet(t, n, testToken, append([]wechatyservice.Option{wechatyservice.WithNoTLS(false)}, tc.opts...)...)
			err := p.Start(ctx)
			if tc.reason != "" {
				t.Log(err)
				require.ErrorIs(t, err, wechatyservice.ErrTLS)
				assert.Contains(t, err.Error(), tc.reason)
				if !tc.plain {
					assert.Contains(t, err.Error(), "WECHATY_PUPPET_SERVICE_TLS_CA_CERT")
				}
				assert.NotContains(t, err.Error(), testToken)
				return
			}
			require.NoError(t, err)
			waitEvent(t, ctx, p, puppet.EventLogin)
			require.NoError(t, p.Say(ctx, fakeContact, "over TLS"))
			assert.True(t, n.svc.wasDelivered(fakeContact, "over TLS"))
		})
	}
}
