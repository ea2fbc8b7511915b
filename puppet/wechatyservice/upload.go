package wechatyservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hawechaty/hawechaty/puppet"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
)

// Big files go as Wechaty's own puppet-service client sends them: the
// bytes first, in chunks, through the client-streaming Upload call, which
// answers with an ID under which the service keeps them; then
// MessageSendFile with a UUID FileBox that names that ID. No request then
// carries more than one chunk, so gRPC's message limit (4 MiB by default
// on the server's side) no longer bounds the file.
//
// Wechaty's client uploads everything above 20 KiB (meant for testing,
// its source says, before a threshold of 64 to 256 KiB), in file-box's
// 256 KiB chunks. Against the real server (BenchmarkIntegrationSendFile)
// base64 is faster at 16 KiB, both ways are even at 64 KiB, and the
// upload is 2 to 4 times faster from 256 KiB up: the puppet uploads above
// 64 KiB, and sends smaller files base64 in one call.
const (
	// UploadThreshold is the size above which SendFile uploads a file's
	// bytes (Upload) and sends a UUID FileBox; up to it, the bytes go
	// base64 inside MessageSendFile.
	UploadThreshold = 64 << 10
	// UploadChunk is the size of the chunks SendFile uploads (the last
	// one may be smaller): file-box's chunk size.
	UploadChunk = 256 << 10
	// MaxFileSize bounds a file SendFile sends: a bigger one is
	// ErrFileTooLarge, and nothing is sent.
	MaxFileSize = 256 << 20
	// maxBase64 bounds a file sent base64 in one request (to a service
	// without Upload): base64 grows the bytes by a third, and the request,
	// with the JSON around them, must stay below gRPC's default 4 MiB.
	maxBase64 = 3<<20 - 64<<10
)

// ErrFileTooLarge is returned (wrapped with puppet.ErrPermanent) by
// SendFile for a file above MaxFileSize, or above 3 MiB − 64 KiB to a
// service that does not implement Upload. Nothing is sent then; send such a file by
// URL.
var ErrFileTooLarge = errors.New("wechatyservice: file too large")

// uuidFileBox is the FileBox JSON of bytes the service keeps under id, as
// file-box's toJSON writes a UUID box.
func uuidFileBox(name string, size int, id string) (string, error) {
	b, err := json.Marshal(fileBoxJSON{Type: fileBoxUUID, BoxType: fileBoxUUID, Name: name, Size: int64(size), UUID: id})
	return string(b), err
}

// fileBoxFor returns the FileBox JSON that SendFile hands MessageSendFile
// for f: a URL box, a base64 box, or, for bytes above UploadThreshold, a
// UUID box of the bytes uploaded first. Its error is classified: an upload
// that fails sends no message, so it is not sent (or permanent).
func (p *Puppet) fileBoxFor(ctx context.Context, s *session, op string, f puppet.FileBox) (string, error) {
	n := len(f.Data)
	if n <= p.o.uploadAbove {
		return encodeFileBox(f)
	}
	if !s.noUpload.Load() {
		id, err := p.upload(ctx, s, op, f.Data)
		if err == nil {
			return uuidFileBox(f.Name, n, id)
		}
		if !errors.Is(err, errNoUpload) {
			return "", err
		}
	}
	if n > maxBase64 {
		return "", fmt.Errorf("wechatyservice: %s via %q at %s: %w: %d bytes, and the service does not implement Upload, which files above %d bytes need (send it by URL): %w",
			op, p.name, p.endpoint, ErrFileTooLarge, n, maxBase64, puppet.ErrPermanent)
	}
	return encodeFileBox(f)
}

// errNoUpload marks an Upload the service does not implement.
var errNoUpload = errors.New("wechatyservice: the service does not implement Upload")

// upload sends data to the service in UploadChunk chunks (Upload) and
// returns the ID the service keeps them under. The call is bounded like
// any other (WithCallTimeout, unless ctx has a deadline); when it fails,
// ctx ends, or the service refuses, the stream is cancelled. Its errors
// are *RPCError wrapping puppet.ErrNotSent (puppet.ErrPermanent for
// codes that say the request can never succeed): uploaded bytes are no
// message. A service without Upload also gives errNoUpload, and is not
// asked again in this session.
func (p *Puppet) upload(ctx context.Context, s *session, op string, data []byte) (string, error) {
	op = fmt.Sprintf("%s: upload of %d bytes", op, len(data))
	ctx, cancel := p.callContext(ctx)
	defer cancel() // ends the stream, whatever happened
	id, err := func() (string, error) {
		st, err := s.client.Upload(ctx)
		if err != nil {
			return "", err
		}
		sent := 0
		for sent < len(data) {
			n := min(len(data)-sent, UploadChunk)
			if err := st.Send(&pbp.UploadRequest{Chunk: data[sent : sent+n]}); err != nil {
				if errors.Is(err, io.EOF) {
					break // the service ended the call: CloseAndRecv tells how
				}
				return "", err
			}
			sent += n
		}
		r, err := st.CloseAndRecv()
		switch {
		case err != nil:
			return "", err
		case sent < len(data):
			return "", fmt.Errorf("the service ended the upload after %d of %d bytes", sent, len(data))
		case r.GetId() == "":
			return "", errors.New("the service returned no upload ID")
		}
		return r.GetId(), nil
	}()
	if err == nil {
		return id, nil
	}
	rpc := newRPCError(op, p.endpoint, err, p.token.Reveal())
	if rpc.Code == codes.Unimplemented {
		s.noUpload.Store(true)
		return "", fmt.Errorf("%w: %w: %w", rpc, errNoUpload, puppet.ErrPermanent)
	}
	return "", fmt.Errorf("%w: %w", rpc, outcome(rpc.Code, false))
}
