//go:build integration

package wechatyservice_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
)

// TestIntegrationLargeFiles: a 60 KB file goes out as base64 FileBox JSON
// and a 300 KB one is uploaded first (above UploadThreshold), and both
// arrive whole; a 60 KB file a contact sends is handed out by the
// server as a UUID box (it does so above 20 KB) and comes back whole
// through Download.
func TestIntegrationLargeFiles(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p, ctx := realLoggedIn(t, srv)

	big := bytes.Repeat([]byte("HAWechaty "), 30_000)
	out := puppet.FileMedia(puppet.FileFromBytes("small.png", big[:60_000]))
	require.NoError(t, p.SendFile(ctx, servicetest.Contact, *out.File))
	require.Eventually(t, func() bool { return srv.DeliveredMedia(servicetest.Contact, out) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, p.SendFile(ctx, servicetest.Contact, puppet.FileFromBytes("big.png", big)))
	require.Eventually(t, func() bool { return srv.DeliveredFile(servicetest.Contact, "big.png", big) == 1 }, 30*time.Second, 20*time.Millisecond)

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

// TestIntegrationUploadBigFile: a 5 MiB file, above gRPC's 4 MiB message
// limit, is uploaded in chunks and sent as a UUID box; the server reads
// the same bytes back from its store (size and SHA-256 compared), and
// PuppetMock delivers the file.
func TestIntegrationUploadBigFile(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	p := realPuppet(t, srv, srv.Token)
	ctx := integrationCtx(t)
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)

	data := make([]byte, 5<<20+3) // a last chunk of 3 bytes
	for i := range data {
		data[i] = byte(i*7 + i>>16)
	}
	require.NoError(t, p.SendFile(ctx, servicetest.Contact, puppet.FileBox{Name: "five.bin", Data: data}))
	require.Eventually(t, func() bool { return srv.DeliveredFile(servicetest.Contact, "five.bin", data) == 1 },
		30*time.Second, 20*time.Millisecond, "uploaded files the server received: %+v", srv.UploadedFiles())

	// Into the room too, and a file just above the threshold.
	small := data[:wechatyservice.UploadThreshold+1]
	require.NoError(t, p.SendFile(ctx, servicetest.Room, puppet.FileBox{Name: "one.bin", Data: small}))
	require.Eventually(t, func() bool { return srv.DeliveredFile(servicetest.Room, "one.bin", small) == 1 },
		30*time.Second, 20*time.Millisecond, "uploaded files the server received: %+v", srv.UploadedFiles())
	assert.Len(t, srv.UploadedFiles(), 2)
}

// cutUpload cancels a context after an Upload stream sent n chunks.
type cutUpload struct {
	grpc.ClientStream
	n      int
	cancel context.CancelFunc
}

func (c *cutUpload) SendMsg(m any) error {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.ClientStream.SendMsg(m)
}

// TestIntegrationUploadCancelled: a send whose context ends mid-upload
// (after 3 chunks) is not sent and delivers nothing; the server survives
// the broken upload and takes the next file and text.
func TestIntegrationUploadCancelled(t *testing.T) {
	srv := servicetest.Start(t, servicetest.Config{})
	ctx := integrationCtx(t)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cut := grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || method != "/wechaty.Puppet/Upload" {
			return cs, err
		}
		return &cutUpload{ClientStream: cs, n: 3, cancel: cancel}, nil
	})
	p := realPuppet(t, srv, srv.Token, wechatyservice.WithDialOptions(cut))
	require.NoError(t, p.Start(ctx))
	waitEvent(t, ctx, p, puppet.EventLogin)

	data := make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	err := p.SendFile(sctx, servicetest.Contact, puppet.FileBox{Name: "cut.bin", Data: data})
	assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
	assert.ErrorIs(t, err, context.Canceled)

	require.NoError(t, p.SendFile(ctx, servicetest.Contact, puppet.FileBox{Name: "whole.bin", Data: data}))
	require.NoError(t, p.Say(ctx, servicetest.Contact, "after the cut"))
	srv.WaitDelivered(t, ctx, servicetest.Contact, "after the cut", 1)
	assert.Equal(t, 1, srv.DeliveredFile(servicetest.Contact, "whole.bin", data), "uploaded: %+v", srv.UploadedFiles())
	assert.Len(t, srv.UploadedFiles(), 1, "the cut file was never sent")
}

// BenchmarkIntegrationSendFile: SendFile against the real server, base64
// against upload at each size (as BenchmarkSendFile). The server reads
// each uploaded file back and hashes it before the send returns, and
// writes each base64 file back to the test as base64 (server.mjs): both
// modes pay for the test's harness.
func BenchmarkIntegrationSendFile(b *testing.B) {
	benchSendFile(b, func(b *testing.B, opt wechatyservice.Option) (*wechatyservice.Puppet, context.Context) {
		srv := servicetest.Start(b, servicetest.Config{})
		p, err := wechatyservice.New(srv.Endpoint, puppet.NewSecret(srv.Token), opt,
			wechatyservice.WithNoTLS(!srv.TLS), wechatyservice.WithCallTimeout(time.Minute))
		require.NoError(b, err)
		b.Cleanup(func() { _ = p.Close() })
		return p, startPuppet(b, p)
	}, nil)
}
