//go:build integration

package wechatyservice_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationLargeFiles: a 300 KB file goes out as base64 FileBox JSON
// and arrives whole; a 60 KB file a contact sends is handed out by the
// server as a UUID box (it does so above 20 KB) and comes back whole
// through Download.
func TestIntegrationLargeFiles(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p, ctx := realLoggedIn(t, srv)

	big := bytes.Repeat([]byte("HAWechaty "), 30_000)
	out := puppet.FileMedia(puppet.FileFromBytes("big.png", big))
	require.NoError(t, p.SendFile(ctx, servicetest.Contact, *out.File))
	require.Eventually(t, func() bool { return srv.DeliveredMedia(servicetest.Contact, out) == 1 }, 30*time.Second, 20*time.Millisecond)

	in := puppet.FileMedia(puppet.FileFromBytes("scan.pdf", big[:60_000]))
	require.NoError(t, srv.PostMedia(servicetest.Contact, "", in, "big-in-1"))
	m := waitEvent(t, ctx, p, puppet.EventMessage).Message
	assert.Equal(t, puppet.MediaFile, m.Kind)
	got, err := p.MessageFile(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, "scan.pdf", got.Name)
	assert.Equal(t, "application/pdf", got.MIME)
	assert.True(t, bytes.Equal(big[:60_000], got.Data), "got %d bytes", len(got.Data))
}
