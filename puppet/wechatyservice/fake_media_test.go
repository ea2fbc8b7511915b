package wechatyservice_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/hawechaty/hawechaty/puppet"
	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Media in the fake service: what it was sent, and media messages it posts
// (files above 40 bytes are handed out as UUID boxes, downloaded in
// chunks, as the real server does above 20 KB).

type fakeMedia struct {
	To    string
	Media puppet.Media
}

// wechaty-puppet's message types.
var fakeMsgType = map[puppet.MediaKind]pbp.MessageType{
	puppet.MediaImage: 6, puppet.MediaFile: 1, puppet.MediaURL: 14, puppet.MediaContact: 3,
}

func (f *fakeService) check(ctx context.Context, to string) error {
	if err := f.auth(ctx); err != nil {
		return err
	}
	if _, ok := fakeContacts[to]; !ok && to != fakeRoom {
		return status.Errorf(codes.Unknown, "MockContact.load(): %s not exist.", to)
	}
	return nil
}

func (f *fakeService) record(to string, m puppet.Media) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sentMedia = append(f.sentMedia, fakeMedia{to, m})
}

func (f *fakeService) MessageSendFile(ctx context.Context, req *pbp.MessageSendFileRequest) (*pbp.MessageSendFileResponse, error) {
	if err := f.check(ctx, req.GetConversationId()); err != nil {
		return nil, err
	}
	var box struct {
		Type         int
		Name, Base64 string
		URL          string `json:"url"`
		UUID         string `json:"uuid"`
		Size         int
	}
	if err := json.Unmarshal([]byte(req.GetFileBox()), &box); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	data, err := base64.StdEncoding.DecodeString(box.Base64)
	switch {
	case err != nil:
		return nil, status.Errorf(codes.InvalidArgument, "bad base64 in %q", req.GetFileBox())
	case box.Type == 7:
		var ok bool
		if data, ok = f.uploadedData(box.UUID); !ok || len(data) != box.Size {
			return nil, status.Errorf(codes.NotFound, "no upload %q of %d bytes", box.UUID, box.Size)
		}
	case box.Type != 1 && box.Type != 2:
		return nil, status.Errorf(codes.InvalidArgument, "bad box %q", req.GetFileBox())
	}
	f.mu.Lock()
	code := f.sendFileCode
	if code == codes.OK {
		f.sendFileBoxes = append(f.sendFileBoxes, box.Type)
	}
	f.mu.Unlock()
	if code != codes.OK {
		return nil, status.Error(code, "injected")
	}
	f.record(req.GetConversationId(), puppet.FileMedia(puppet.FileBox{Name: box.Name, Data: data, URL: box.URL}))
	return &pbp.MessageSendFileResponse{}, nil
}

func (f *fakeService) MessageSendUrl(ctx context.Context, req *pbp.MessageSendUrlRequest) (*pbp.MessageSendUrlResponse, error) {
	if err := f.check(ctx, req.GetConversationId()); err != nil {
		return nil, err
	}
	u := req.GetUrlLink()
	f.record(req.GetConversationId(), puppet.LinkMedia(puppet.URLLink{URL: u.GetUrl(), Title: u.GetTitle(), Description: u.GetDescription(), ThumbnailURL: u.GetThumbnailUrl()}))
	return &pbp.MessageSendUrlResponse{}, nil
}

func (f *fakeService) MessageSendContact(ctx context.Context, req *pbp.MessageSendContactRequest) (*pbp.MessageSendContactResponse, error) {
	if err := f.check(ctx, req.GetConversationId()); err != nil {
		return nil, err
	}
	f.record(req.GetConversationId(), puppet.ContactMedia(req.GetContactId()))
	return &pbp.MessageSendContactResponse{}, nil
}

// postMedia makes alice send m to the bot (room "") or the room.
func (f *fakeService) postMedia(room string, m puppet.Media) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("msg-%d", f.seq)
	msg := &pbp.MessagePayloadResponse{Id: id, TalkerId: fakeContact, RoomId: room, Type: fakeMsgType[m.Kind], ReceiveTime: timestamppb.Now()}
	if room == "" {
		msg.ListenerId = fakeSelf
	}
	f.messages[id] = msg
	if f.media == nil {
		f.media = map[string]puppet.Media{}
	}
	f.media[id] = m
	f.emitLocked(pbp.EventType_EVENT_TYPE_MESSAGE, map[string]string{"messageId": id})
}

func (f *fakeService) mediaOf(ctx context.Context, id string) (puppet.Media, error) {
	if err := f.auth(ctx); err != nil {
		return puppet.Media{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.media[id]
	if !ok {
		return puppet.Media{}, status.Errorf(codes.NotFound, "no media message %s", id)
	}
	return m, nil
}

func (f *fakeService) MessageFile(ctx context.Context, req *pbp.MessageFileRequest) (*pbp.MessageFileResponse, error) {
	m, err := f.mediaOf(ctx, req.GetId())
	if err != nil || m.File == nil {
		return nil, status.Errorf(codes.NotFound, "no file in %s", req.GetId())
	}
	f.mu.Lock()
	imagesApart := f.imagesApart
	f.mu.Unlock()
	if imagesApart && m.Kind == puppet.MediaImage {
		return nil, status.Errorf(codes.Unknown, "%s is an image: ask MessageImage", req.GetId())
	}
	return f.fileBoxOf(req.GetId(), m), nil
}

// MessageImage answers only for images, and only when imagesApart is set.
func (f *fakeService) MessageImage(ctx context.Context, req *pbp.MessageImageRequest) (*pbp.MessageImageResponse, error) {
	m, err := f.mediaOf(ctx, req.GetId())
	f.mu.Lock()
	imagesApart := f.imagesApart
	f.mu.Unlock()
	if err != nil || m.Kind != puppet.MediaImage || !imagesApart || req.GetType() != pbp.ImageType_IMAGE_TYPE_HD {
		return nil, status.Errorf(codes.NotFound, "no HD image in %s", req.GetId())
	}
	return &pbp.MessageImageResponse{FileBox: f.fileBoxOf(req.GetId(), m).GetFileBox()}, nil
}

func (f *fakeService) fileBoxOf(id string, m puppet.Media) *pbp.MessageFileResponse {
	box := map[string]any{"type": 1, "name": m.File.Name, "base64": base64.StdEncoding.EncodeToString(m.File.Data)}
	if len(m.File.Data) > 40 {
		box = map[string]any{"type": 7, "name": m.File.Name, "uuid": "uuid-" + id}
	}
	b, _ := json.Marshal(box)
	return &pbp.MessageFileResponse{FileBox: string(b)}
}

func (f *fakeService) Download(req *pbp.DownloadRequest, srv pb.Puppet_DownloadServer) error {
	m, err := f.mediaOf(srv.Context(), req.GetId()[len("uuid-"):])
	if err != nil || m.File == nil {
		return status.Errorf(codes.NotFound, "no file %s", req.GetId())
	}
	for data := m.File.Data; len(data) > 0; {
		n := min(len(data), 7)
		if err := srv.Send(&pbp.DownloadResponse{Chunk: data[:n]}); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func (f *fakeService) MessageUrl(ctx context.Context, req *pbp.MessageUrlRequest) (*pbp.MessageUrlResponse, error) {
	m, err := f.mediaOf(ctx, req.GetId())
	if err != nil || m.URL == nil {
		return nil, status.Errorf(codes.NotFound, "no link in %s", req.GetId())
	}
	return &pbp.MessageUrlResponse{UrlLink: &pbp.UrlLinkPayload{Url: m.URL.URL, Title: m.URL.Title, Description: m.URL.Description, ThumbnailUrl: m.URL.ThumbnailURL}}, nil
}

func (f *fakeService) MessageContact(ctx context.Context, req *pbp.MessageContactRequest) (*pbp.MessageContactResponse, error) {
	m, err := f.mediaOf(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &pbp.MessageContactResponse{Id: m.Contact}, nil
}
