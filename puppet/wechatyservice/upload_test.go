package wechatyservice_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// randomBytes returns n bytes that differ at every chunk boundary, so a
// lost, repeated or reordered chunk shows.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// startedFake is a fake service with a logged-in puppet.
func startedFake(t testing.TB) (*fakeNet, *wechatyservice.Puppet, context.Context) {
	t.Helper()
	n := newFakeNet(t, testToken)
	p, _ := newFakePuppet(t, n, testToken)
	return n, p, startPuppet(t, p)
}

// startPuppet starts p and waits for its login; the context it returns
// ends at t's cleanup.
func startPuppet(t testing.TB, p *wechatyservice.Puppet) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	require.NoError(t, p.Start(ctx))
	for {
		select {
		case ev, ok := <-p.Events():
			if !ok {
				t.Fatal("events closed before the login")
			}
			if ev.Kind == puppet.EventLogin {
				return ctx
			}
		case <-ctx.Done():
			t.Fatal("no login before the deadline")
		}
	}
}

// sentFiles returns the files the fake service delivered.
func (f *fakeService) sentFiles() []puppet.FileBox {
	f.mu.Lock()
	defer f.mu.Unlock()
	var files []puppet.FileBox
	for _, m := range f.sentMedia {
		if m.Media.File != nil {
			files = append(files, *m.Media.File)
		}
	}
	return files
}

// TestSendFileUploadsBigFiles: up to UploadThreshold the bytes go base64
// in MessageSendFile; above it they are uploaded in UploadChunk chunks
// (the last one the rest) and sent as a UUID box, and arrive whole, at
// every chunk boundary.
func TestSendFileUploadsBigFiles(t *testing.T) {
	const chunk = wechatyservice.UploadChunk
	n, p, ctx := startedFake(t)
	sizes := []int{
		1,
		wechatyservice.UploadThreshold,     // the biggest base64 box
		wechatyservice.UploadThreshold + 1, // the smallest upload, in one chunk
		chunk, chunk + 1,                   // one full chunk; one more byte in a second chunk
		5*chunk - 1, 5 * chunk, 5*chunk + 1,
		5<<20 + 3,
	}
	for i, size := range sizes {
		data := randomBytes(size, uint64(i))
		name := fmt.Sprintf("f%d.bin", i)
		require.NoError(t, p.SendFile(ctx, fakeContact, puppet.FileBox{Name: name, Data: data}), "size %d", size)

		files := n.svc.sentFiles()
		require.Len(t, files, i+1)
		got := files[i]
		assert.Equal(t, name, got.Name)
		assert.True(t, bytes.Equal(data, got.Data), "size %d: got %d bytes, not the ones sent", size, len(got.Data))

		n.svc.mu.Lock()
		boxType, uploads := n.svc.sendFileBoxes[i], append([][]int(nil), n.svc.chunks...)
		n.svc.mu.Unlock()
		if size <= wechatyservice.UploadThreshold {
			assert.Equal(t, 1, boxType, "size %d goes base64", size)
			continue
		}
		assert.Equal(t, 7, boxType, "size %d goes as a UUID box", size)
		last := uploads[len(uploads)-1]
		want := make([]int, (size+chunk-1)/chunk)
		for j := range want {
			want[j] = min(chunk, size-j*chunk)
		}
		assert.Equal(t, want, last, "size %d: chunk sizes", size)
	}
	n.svc.mu.Lock()
	defer n.svc.mu.Unlock()
	assert.Len(t, n.svc.chunks, 7, "one upload per file above the threshold")
}

// TestSendFileUploadFails: an upload the service breaks off mid-stream
// sends no message: not sent (permanent for InvalidArgument), with the
// service's code and words, and nothing delivered. The puppet sends the
// next file as usual.
func TestSendFileUploadFails(t *testing.T) {
	n, p, ctx := startedFake(t)
	data := randomBytes(3<<20, 1)
	for _, tt := range []struct {
		code codes.Code
		want puppet.Outcome
	}{
		{codes.ResourceExhausted, puppet.NotSent},
		{codes.Internal, puppet.NotSent},
		{codes.Unavailable, puppet.NotSent},
		{codes.InvalidArgument, puppet.Permanent},
	} {
		n.svc.mu.Lock()
		n.svc.failAfter, n.svc.failCode = 3, tt.code
		n.svc.mu.Unlock()
		err := p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "big.bin", Data: data})
		require.Error(t, err, "%s", tt.code)
		assert.Equal(t, tt.want, puppet.Classify(err), "%s: %v", tt.code, err)
		assert.Equal(t, tt.code, status.Code(err), "%v", err)
		assert.ErrorContains(t, err, fmt.Sprintf("upload of %d bytes", len(data)))
		assert.ErrorContains(t, err, "injected after 3 chunks")
		assert.NotContains(t, err.Error(), testToken)
	}
	assert.Empty(t, n.svc.sentFiles(), "no message left")

	n.svc.mu.Lock()
	n.svc.failAfter = 0
	n.svc.mu.Unlock()
	require.NoError(t, p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "big.bin", Data: data}))
	require.Len(t, n.svc.sentFiles(), 1)
	assert.True(t, bytes.Equal(data, n.svc.sentFiles()[0].Data))
}

// TestSendFileUploadContext: a context that ends mid-upload (the service
// stopped reading) ends the stream at once: not sent, with the context's
// error, and no message.
func TestSendFileUploadContext(t *testing.T) {
	n, p, ctx := startedFake(t)
	n.svc.mu.Lock()
	n.svc.holdAfter, n.svc.uploadHeld = 2, make(chan struct{}, 1)
	n.svc.mu.Unlock()
	data := randomBytes(5<<20, 2)

	t.Run("cancel", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.SendFile(sctx, fakeContact, puppet.FileBox{Name: "big.bin", Data: data}) }()
		select {
		case <-n.svc.uploadHeld:
		case <-ctx.Done():
			t.Fatal("the upload never reached the service")
		}
		cancel()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			t.Fatal("SendFile did not return after its context was cancelled")
		}
		assert.Equal(t, puppet.NotSent, puppet.Classify(err), "%v", err)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("deadline", func(t *testing.T) {
		// The upload of a send that had no deadline is bounded by
		// WithCallTimeout the same way.
		sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err := p.SendFile(sctx, fakeContact, puppet.FileBox{Name: "big.bin", Data: data})
		<-n.svc.uploadHeld
		assert.Equal(t, puppet.NotSent, puppet.Classify(err), "a deadline mid-upload sent nothing: %v", err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	assert.Empty(t, n.svc.sentFiles())
}

// TestSendFileAfterUploadUnknown: once the bytes are uploaded, a failed
// MessageSendFile is classified as Say's: Unknown may have been
// delivered, so it is outcome unknown, never not sent.
func TestSendFileAfterUploadUnknown(t *testing.T) {
	n, p, ctx := startedFake(t)
	n.svc.mu.Lock()
	n.svc.sendFileCode = codes.Unknown
	n.svc.mu.Unlock()
	err := p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "big.bin", Data: randomBytes(2<<20, 3)})
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err), "%v", err)
	n.svc.mu.Lock()
	defer n.svc.mu.Unlock()
	assert.Len(t, n.svc.chunks, 1, "the bytes were uploaded")
}

// TestSendFileWithoutUpload: a service without Upload (Unimplemented) gets
// files up to 3 MiB base64, and is not asked to upload again; a bigger
// file is ErrFileTooLarge, permanent, and nothing is sent.
func TestSendFileWithoutUpload(t *testing.T) {
	n, p, ctx := startedFake(t)
	n.svc.mu.Lock()
	n.svc.noUpload = true
	n.svc.mu.Unlock()
	for i := range 2 {
		data := randomBytes(2<<20, uint64(10+i))
		require.NoError(t, p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "two.bin", Data: data}))
		files := n.svc.sentFiles()
		require.Len(t, files, i+1)
		assert.True(t, bytes.Equal(data, files[i].Data))
	}
	err := p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "four.bin", Data: randomBytes(4<<20, 12)})
	assert.ErrorIs(t, err, wechatyservice.ErrFileTooLarge)
	assert.Equal(t, puppet.Permanent, puppet.Classify(err), "%v", err)
	assert.ErrorContains(t, err, "does not implement Upload")
	n.svc.mu.Lock()
	defer n.svc.mu.Unlock()
	assert.Equal(t, 1, n.svc.uploadCalls, "asked once")
	assert.Equal(t, []int{1, 1}, n.svc.sendFileBoxes)
}

// TestSendFileTooLarge: a file above MaxFileSize is refused before
// anything is sent, as is a file with neither bytes nor URL.
func TestSendFileTooLarge(t *testing.T) {
	n, p, ctx := startedFake(t)
	err := p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "huge.bin", Data: make([]byte, wechatyservice.MaxFileSize+1)})
	assert.ErrorIs(t, err, wechatyservice.ErrFileTooLarge)
	assert.Equal(t, puppet.Permanent, puppet.Classify(err))
	assert.ErrorContains(t, err, "by URL")

	err = p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "empty.bin"})
	assert.ErrorIs(t, err, puppet.ErrBadMedia)
	assert.Equal(t, puppet.Permanent, puppet.Classify(err))
	n.svc.mu.Lock()
	defer n.svc.mu.Unlock()
	assert.Zero(t, n.svc.uploadCalls)
	assert.Empty(t, n.svc.sentMedia)
}

// benchSizes are the file sizes the SendFile benchmarks compare base64
// and upload at (3 MiB is the most a base64 box can carry).
var benchSizes = []struct {
	name string
	size int
}{{"16KiB", 16 << 10}, {"64KiB", 64 << 10}, {"256KiB", 256 << 10}, {"1MiB", 1 << 20}, {"3MiB-64KiB", 3<<20 - 64<<10}, {"5MiB", 5 << 20}}

// benchModes are the ways SendFile can send bytes: base64 in
// MessageSendFile (the baseline, up to 3 MiB), and uploaded first.
var benchModes = []struct {
	name  string
	above int
}{{"base64", 3<<20 - 64<<10}, {"upload", 0}}

// benchSendFile runs SendFile on every size in both modes, with a puppet
// that newPuppet returns for the mode (its service keeps nothing between
// sends when reset is set).
func benchSendFile(b *testing.B, newPuppet func(b *testing.B, opt wechatyservice.Option) (*wechatyservice.Puppet, context.Context), reset func()) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			p, ctx := newPuppet(b, wechatyservice.WithUploadAbove(mode.above))
			for _, bc := range benchSizes {
				if mode.name == "upload" || bc.size <= 3<<20-64<<10 {
					b.Run(bc.name, func(b *testing.B) {
						data := randomBytes(bc.size, 7)
						b.SetBytes(int64(bc.size))
						for b.Loop() {
							if err := p.SendFile(ctx, fakeContact, puppet.FileBox{Name: "bench.bin", Data: data}); err != nil {
								b.Fatal(err)
							}
							if reset != nil {
								reset()
							}
						}
					})
				}
			}
		})
	}
}

// BenchmarkSendFile: SendFile over the in-process fake service
// (bufconn), base64 against upload at each size.
func BenchmarkSendFile(b *testing.B) {
	var svc *fakeService
	benchSendFile(b, func(b *testing.B, opt wechatyservice.Option) (*wechatyservice.Puppet, context.Context) {
		n := newFakeNet(b, testToken)
		svc = n.svc
		p, _ := newFakePuppet(b, n, testToken, opt, wechatyservice.WithLogger(slog.New(slog.DiscardHandler)))
		return p, startPuppet(b, p)
	}, func() {
		svc.mu.Lock()
		svc.sentMedia, svc.uploaded, svc.sendFileBoxes = nil, nil, nil
		svc.mu.Unlock()
	})
}
