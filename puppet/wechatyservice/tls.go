package wechatyservice

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed" // the Wechaty root CA
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc/credentials"
)

// wechatyRootCA is the certificate authority of the Wechaty community
// (CN wechaty-root-ca, valid until August 2031), which Wechaty's clients
// trust by default. It signs the certificate that wechaty-puppet-service
// servers use unless they are given their own (CN "insecure": its private
// key ships with the server, so it proves little; see the package doc).
//
//go:embed wechaty-root-ca.pem
var wechatyRootCA []byte

// WechatyRootCA returns the PEM of the Wechaty community's root CA, the CA
// a Puppet trusts unless WithTLSCACert or WECHATY_PUPPET_SERVICE_TLS_CA_CERT
// names another.
func WechatyRootCA() []byte { return append([]byte(nil), wechatyRootCA...) }

// Errors about TLS.
var (
	// ErrTLS is returned by Start when the TLS handshake with the service
	// failed: a certificate from another CA, a server name the certificate
	// does not carry, or a service that does not speak TLS. Its message
	// names the setting to check.
	ErrTLS = errors.New("wechatyservice: TLS handshake failed")
	// ErrNoServerName is returned by New when TLS is on and no server name
	// is known: neither WithTLSServerName (WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME)
	// nor a token with a prefix ("insecure_…", "puppet_padlocal_…") names
	// one.
	ErrNoServerName = errors.New("wechatyservice: TLS needs a server name")
	// ErrBadCACert is returned by New for a CA certificate that is not PEM.
	ErrBadCACert = errors.New("wechatyservice: no certificate in the CA PEM")
)

// ServerNameOf returns the TLS server name a Wechaty token implies: the
// token up to its last "_", in lower case ("insecure_4c8d…" → "insecure",
// "puppet_padlocal_9f…" → "puppet_padlocal"), or "" when the token has no
// such prefix. Wechaty's clients use it unless a server name is set.
func ServerNameOf(token string) string {
	if i := strings.LastIndexByte(token, '_'); i > 0 {
		return strings.ToLower(token[:i])
	}
	return ""
}

// tlsSettings is the resolved TLS of a puppet.
type tlsSettings struct {
	off        bool   // plaintext
	caPEM      []byte // nil: the Wechaty root CA
	serverName string // "": from the token
}

// credentials builds the transport credentials for TLS, or explains why it
// cannot. The handshake's last error is recorded in *last so that Start
// can tell a TLS failure from an unreachable service.
func (s tlsSettings) credentials(token string, last *atomic.Pointer[handshakeError]) (*recordingCreds, error) {
	name := s.serverName
	if name == "" {
		name = ServerNameOf(token)
	}
	if name == "" {
		return nil, fmt.Errorf("%w: set %s or WithTLSServerName, give the token its provider's prefix "+
			"(a service with the default certificate answers to %q: \"insecure_<token>\"), "+
			"or turn TLS off for a plaintext service with %s=true",
			ErrNoServerName, EnvTLSServerName, insecureServerName, EnvNoTLS)
	}
	ca := s.caPEM
	if len(ca) == 0 {
		ca = wechatyRootCA
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%w (%s / WithTLSCACert)", ErrBadCACert, EnvTLSCACert)
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: name,
		// The chain and the name are checked by VerifyConnection, as
		// Wechaty's clients check them: Go's own check refuses certificates
		// that name their host only in the subject's common name, and those
		// are what Wechaty's CA issues (the default one included).
		InsecureSkipVerify: true,
		VerifyConnection:   verifyService(roots, name),
	}
	return &recordingCreds{TransportCredentials: credentials.NewTLS(cfg), last: last, name: name}, nil
}

// insecureServerName is the common name of the certificate that
// wechaty-puppet-service servers use by default.
const insecureServerName = "insecure"

// verifyService checks the service's certificate chain against roots and
// its name against name: the DNS or IP names of the certificate when it has
// any, else its common name, case-insensitively.
func verifyService(roots *x509.CertPool, name string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the service sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			return err
		}
		return checkName(leaf, name)
	}
}

// checkName matches name against the certificate.
func checkName(leaf *x509.Certificate, name string) error {
	if len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 {
		return leaf.VerifyHostname(name)
	}
	if leaf.Subject.CommonName != "" && strings.EqualFold(leaf.Subject.CommonName, name) {
		return nil
	}
	return fmt.Errorf("x509: the certificate is for %q, not %q", leaf.Subject.CommonName, name)
}

// handshakeError is the last failed TLS handshake of a puppet.
type handshakeError struct{ err error }

// recordingCreds remembers the last handshake failure, which gRPC reports
// to the caller only as "unavailable".
type recordingCreds struct {
	credentials.TransportCredentials
	last *atomic.Pointer[handshakeError]
	name string
}

func (c *recordingCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil && ctx.Err() == nil {
		c.last.Store(&handshakeError{err})
	} else if err == nil {
		c.last.Store(nil)
	}
	return out, info, err
}

func (c *recordingCreds) Clone() credentials.TransportCredentials {
	return &recordingCreds{TransportCredentials: c.TransportCredentials.Clone(), last: c.last, name: c.name}
}

// tlsError explains a failed handshake: what failed, and what to check.
func (p *Puppet) tlsError(h *handshakeError) error {
	msg := p.clean(h.err.Error())
	hint := fmt.Sprintf("check %s (the CA) and %s (the name, now %q)", EnvTLSCACert, EnvTLSServerName, p.serverName)
	if strings.Contains(msg, "first record does not look like a TLS handshake") {
		hint = fmt.Sprintf("the service does not speak TLS: set %s=true for a plaintext service", EnvNoTLS)
	}
	return fmt.Errorf("%w with %s: %s; %s", ErrTLS, p.endpoint, msg, hint)
}
