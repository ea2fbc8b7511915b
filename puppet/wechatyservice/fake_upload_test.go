package wechatyservice_test

import (
	"errors"
	"fmt"
	"io"

	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Uploads in the fake service, as wechaty-puppet-service keeps them: the
// chunks of an Upload stream are joined and kept under a new ID, which a
// UUID FileBox in MessageSendFile names.
type fakeUploads struct {
	uploaded map[string][]byte
	chunks   [][]int // the chunk sizes of each upload, in order
	// noUpload: Upload is Unimplemented, as in services before 2021
	noUpload bool
	// failAfter > 0: Upload fails with failCode after that many chunks
	failAfter int
	failCode  codes.Code
	// holdAfter > 0: Upload stops reading after that many chunks, signals
	// uploadHeld, and waits for the client to give up
	holdAfter   int
	uploadHeld  chan struct{}
	uploadCalls int
	// sendFileCode: MessageSendFile fails with it (after the checks), as
	// a service that lost the answer would
	sendFileCode codes.Code
	// types of the FileBoxes MessageSendFile took, in order
	sendFileBoxes []int
}

func (f *fakeService) Upload(srv pb.Puppet_UploadServer) error {
	if err := f.auth(srv.Context()); err != nil {
		return err
	}
	f.mu.Lock()
	f.uploadCalls++
	off, failAfter, failCode, holdAfter, held := f.noUpload, f.failAfter, f.failCode, f.holdAfter, f.uploadHeld
	f.mu.Unlock()
	if off {
		return status.Error(codes.Unimplemented, "method Upload not implemented")
	}
	var data []byte
	var sizes []int
	for {
		if failAfter > 0 && len(sizes) == failAfter {
			return status.Errorf(failCode, "injected after %d chunks", failAfter)
		}
		if holdAfter > 0 && len(sizes) == holdAfter {
			held <- struct{}{}
			<-srv.Context().Done()
			return status.FromContextError(srv.Context().Err()).Err()
		}
		r, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		sizes = append(sizes, len(r.GetChunk()))
		data = append(data, r.GetChunk()...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploaded == nil {
		f.uploaded = map[string][]byte{}
	}
	id := fmt.Sprintf("upload-%d", len(f.chunks)+1)
	f.uploaded[id] = data
	f.chunks = append(f.chunks, sizes)
	return srv.SendAndClose(&pbp.UploadResponse{Id: id})
}

func (f *fakeService) uploadedData(id string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.uploaded[id]
	return d, ok
}
