package servicetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNodeDirFindsTheModuleRoot(t *testing.T) {
	t.Setenv(EnvNodeDir, "")
	dir, err := NodeDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("integration", "puppetservice"), filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir)))
	_, err = os.Stat(filepath.Join(dir, "server.mjs"))
	assert.NoError(t, err, "the committed server script is where NodeDir says")
	_, err = os.Stat(filepath.Join(dir, "package-lock.json"))
	assert.NoError(t, err, "the lock file is committed next to it")

	t.Setenv(EnvNodeDir, "/elsewhere")
	dir, err = NodeDir()
	require.NoError(t, err)
	assert.Equal(t, "/elsewhere", dir)
}

func TestCheckNodeNamesWhatIsMissing(t *testing.T) {
	err := CheckNode(t.TempDir())
	require.Error(t, err)
	assert.Regexp(t, `node is not installed|server.mjs is missing: run .make puppetservice-node.`, err.Error())
}

func TestEnvPairsPuppetsTokensAndEndpoints(t *testing.T) {
	a := &Server{Endpoint: "127.0.0.1:1001", Token: "insecure_a"}
	b := &Server{Endpoint: "127.0.0.1:1002", Token: "insecure_b", TLS: true}
	assert.Equal(t, map[string]string{
		"HA_WECHATY_PUPPET":                 "wechaty-puppet-service:wechaty-puppet-service",
		"HA_WECHATY_PUPPET_TOKEN":           "insecure_a:insecure_b",
		"WECHATY_PUPPET_SERVICE_ENDPOINT_0": "127.0.0.1:1001",
		"WECHATY_PUPPET_SERVICE_ENDPOINT_1": "127.0.0.1:1002",
		// a speaks plaintext; b TLS
		"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT_0": "true",
	}, Env(a, b))
}

// TestDeliveredFileComparesBytesOrDigest: a base64 delivery is compared
// byte for byte, an uploaded one (UUID box) by size and SHA-256, and the
// name and recipient must match.
func TestDeliveredFileComparesBytesOrDigest(t *testing.T) {
	data := []byte("HAWechaty upload")
	sum := sha256.Sum256(data)
	s := &Server{delivered: []Delivery{
		{To: "alice", Kind: "file", File: &deliveredFile{Name: "a.bin", Base64: base64.StdEncoding.EncodeToString(data)}},
		{To: "alice", Kind: "file", File: &deliveredFile{Name: "a.bin", UUID: "u1", Size: len(data), SHA256: hex.EncodeToString(sum[:])}},
		{To: "alice", Kind: "file", File: &deliveredFile{Name: "a.bin", UUID: "u2", Size: len(data) - 1, SHA256: hex.EncodeToString(sum[:])}},
		{To: "alice", Kind: "file", File: &deliveredFile{Name: "b.bin", UUID: "u3", Size: len(data), SHA256: hex.EncodeToString(sum[:])}},
		{To: "bob", Kind: "file", File: &deliveredFile{Name: "a.bin", Base64: base64.StdEncoding.EncodeToString(data)}},
		{To: "alice", Text: "text"},
	}}
	assert.Equal(t, 2, s.DeliveredFile("alice", "a.bin", data))
	assert.Equal(t, 0, s.DeliveredFile("alice", "a.bin", data[1:]))
	assert.Equal(t, 1, s.DeliveredFile("bob", "a.bin", data))
	assert.Len(t, s.UploadedFiles(), 3)
}
