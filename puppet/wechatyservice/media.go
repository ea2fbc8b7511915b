package wechatyservice

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/hawechaty/hawechaty/puppet"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
)

// Media over the puppet service: files go as Wechaty FileBox JSON
// (MessageSendFile), links as UrlLinkPayload (MessageSendUrl), contact
// cards by contact ID (MessageSendContact); a received message's media
// comes from MessageFile (a FileBox, downloaded with Download when the
// service hands out a UUID box), MessageUrl and MessageContact.

var (
	_ puppet.FileSender    = (*Puppet)(nil)
	_ puppet.URLSender     = (*Puppet)(nil)
	_ puppet.ContactSender = (*Puppet)(nil)
	_ puppet.MediaFetcher  = (*Puppet)(nil)
)

// FileBox types of Wechaty's file-box package: the numbers its JSON
// carries in "type" (and, before file-box 1.0, in "boxType").
const (
	fileBoxBase64 = 1
	fileBoxURL    = 2
	fileBoxQRCode = 3
	fileBoxUUID   = 7
)

// fileBoxJSON is a FileBox as file-box's toJSON writes it.
type fileBoxJSON struct {
	Type    int    `json:"type"`
	BoxType int    `json:"boxType,omitempty"` // the same, for file-box before 1.0
	Name    string `json:"name"`
	Size    int64  `json:"size,omitempty"`
	Base64  string `json:"base64,omitempty"`
	URL     string `json:"url,omitempty"`
	UUID    string `json:"uuid,omitempty"`
	QRCode  string `json:"qrCode,omitempty"`
}

// encodeFileBox writes f as FileBox JSON: bytes as a base64 box, a remote
// file as a URL box.
func encodeFileBox(f puppet.FileBox) (string, error) {
	box := fileBoxJSON{Name: f.Name, Size: f.Size}
	switch {
	case len(f.Data) > 0:
		box.Type, box.Base64, box.Size = fileBoxBase64, base64.StdEncoding.EncodeToString(f.Data), int64(len(f.Data))
	case f.URL != "":
		box.Type, box.URL = fileBoxURL, f.URL
	default:
		return "", fmt.Errorf("%w: file %q has neither bytes nor a URL", puppet.ErrBadMedia, f.Name)
	}
	box.BoxType = box.Type
	b, err := json.Marshal(box)
	return string(b), err
}

// sendMedia checks the puppet and the target as Say does, then makes the
// call.
func (p *Puppet) sendMedia(ctx context.Context, op, to string, call func(ctx context.Context, s *session) error) error {
	s, err := p.connected(op, true)
	if err != nil {
		return err
	}
	if err := s.checkTarget(ctx, op, to); err != nil {
		return err
	}
	return p.call(ctx, op, func(ctx context.Context) error { return call(ctx, s) })
}

// SendFile sends a file with MessageSendFile and Wechaty FileBox JSON: a
// URL box for a remote file; for bytes, a base64 box up to
// UploadThreshold (64 KiB), and above it a UUID box of the bytes uploaded
// first in UploadChunk chunks (Upload), as Wechaty's own clients send big
// files, so gRPC's 4 MiB message limit does not bound them. Files above
// MaxFileSize (256 MiB) are ErrFileTooLarge. A service without Upload
// (Unimplemented) gets files up to 3 MiB − 64 KiB base64, and bigger ones
// are ErrFileTooLarge.
//
// Errors are classified as Say's; an upload that fails (the service
// refuses it, ctx ends, the connection breaks) sends no message, so it is
// not sent (permanent for a code that says it can never work). The upload
// and the send are each bounded by WithCallTimeout unless ctx has a
// deadline: give a deadline that fits the file's size over the link.
func (p *Puppet) SendFile(ctx context.Context, to string, file puppet.FileBox) error {
	op := fmt.Sprintf("send file %q to %q", file.Name, to)
	if len(file.Data) > MaxFileSize {
		return fmt.Errorf("wechatyservice: %s via %q: %w: %d bytes, more than %d (send it by URL): %w",
			op, p.name, ErrFileTooLarge, len(file.Data), MaxFileSize, puppet.ErrPermanent)
	}
	if len(file.Data) == 0 && file.URL == "" {
		return fmt.Errorf("wechatyservice: %s via %q: %w: the file has neither bytes nor a URL: %w", op, p.name, puppet.ErrBadMedia, puppet.ErrPermanent)
	}
	s, err := p.connected(op, true)
	if err != nil {
		return err
	}
	if err := s.checkTarget(ctx, op, to); err != nil {
		return err
	}
	box, err := p.fileBoxFor(ctx, s, op, file)
	if err != nil {
		return err
	}
	return p.call(ctx, op, func(ctx context.Context) error {
		_, err := s.client.MessageSendFile(ctx, &pbp.MessageSendFileRequest{ConversationId: to, FileBox: box})
		return err
	})
}

// SendURL sends a link card (MessageSendUrl). Errors are classified as
// Say's.
func (p *Puppet) SendURL(ctx context.Context, to string, link puppet.URLLink) error {
	return p.sendMedia(ctx, fmt.Sprintf("send link to %q", to), to, func(ctx context.Context, s *session) error {
		_, err := s.client.MessageSendUrl(ctx, &pbp.MessageSendUrlRequest{ConversationId: to, UrlLink: &pbp.UrlLinkPayload{
			Url: link.URL, Title: link.Title, Description: link.Description, ThumbnailUrl: link.ThumbnailURL,
		}})
		return err
	})
}

// SendContact sends the card of contactID (MessageSendContact). Errors are
// classified as Say's.
func (p *Puppet) SendContact(ctx context.Context, to, contactID string) error {
	return p.sendMedia(ctx, fmt.Sprintf("send the card of %q to %q", contactID, to), to, func(ctx context.Context, s *session) error {
		_, err := s.client.MessageSendContact(ctx, &pbp.MessageSendContactRequest{ConversationId: to, ContactId: contactID})
		return err
	})
}

// MessageFile fetches the file of an image or file message (MessageFile;
// when that fails, MessageImage in HD, for services that serve images only
// so). A base64 box comes with its bytes, a URL box with its URL; a UUID box
// (the service's way with files over about 20 KB) is downloaded with
// Download.
func (p *Puppet) MessageFile(ctx context.Context, messageID string) (puppet.FileBox, error) {
	op := fmt.Sprintf("file of message %q", messageID)
	s, err := p.connected(op, false)
	if err != nil {
		return puppet.FileBox{}, err
	}
	var raw string
	if err := p.call(ctx, op, func(ctx context.Context) error {
		r, err := s.client.MessageFile(ctx, &pbp.MessageFileRequest{Id: messageID})
		raw = r.GetFileBox()
		return err
	}); err != nil {
		// Some services serve an image only through MessageImage, as
		// Wechaty's Image does: for an image message, ask that before
		// giving up (unless the service could not be reached at all).
		if puppet.Classify(err) == puppet.NotSent || !s.isImage(ctx, messageID) {
			return puppet.FileBox{}, err
		}
		if ierr := p.call(ctx, op+" (as an image)", func(ctx context.Context) error {
			r, err := s.client.MessageImage(ctx, &pbp.MessageImageRequest{Id: messageID, Type: pbp.ImageType_IMAGE_TYPE_HD})
			raw = r.GetFileBox()
			return err
		}); ierr != nil {
			return puppet.FileBox{}, err
		}
	}
	var box fileBoxJSON
	if err := json.Unmarshal([]byte(raw), &box); err != nil {
		return puppet.FileBox{}, fmt.Errorf("wechatyservice: %s via %q: unreadable FileBox: %w: %w", op, p.name, err, puppet.ErrPermanent)
	}
	if box.Type == 0 {
		box.Type = box.BoxType
	}
	f := puppet.FileBox{Name: box.Name, Size: box.Size, MIME: mimeOf(box.Name)}
	switch box.Type {
	case fileBoxBase64:
		if f.Data, err = base64.StdEncoding.DecodeString(box.Base64); err != nil {
			return puppet.FileBox{}, fmt.Errorf("wechatyservice: %s via %q: bad base64: %w: %w", op, p.name, err, puppet.ErrPermanent)
		}
	case fileBoxURL:
		f.URL = box.URL
	case fileBoxQRCode:
		f.Data, f.MIME = []byte(box.QRCode), "text/plain; charset=utf-8"
	case fileBoxUUID:
		if f.Data, err = p.download(ctx, s, op, box.UUID); err != nil {
			return puppet.FileBox{}, err
		}
	default:
		return puppet.FileBox{}, fmt.Errorf("wechatyservice: %s via %q: FileBox type %d: %w: %w", op, p.name, box.Type, puppet.ErrUnsupported, puppet.ErrPermanent)
	}
	if len(f.Data) > 0 {
		f.Size = int64(len(f.Data))
	}
	return f, nil
}

// isImage asks the service whether the message is an image.
func (s *session) isImage(ctx context.Context, messageID string) bool {
	var t int32
	err := s.p.call(ctx, "type of message", func(ctx context.Context) error {
		r, err := s.client.MessagePayload(ctx, &pbp.MessagePayloadRequest{Id: messageID})
		t = int32(r.GetType())
		return err
	})
	return err == nil && kindOf(t) == puppet.MediaImage
}

// maxDownload bounds a file downloaded from the service.
const maxDownload = 256 << 20

// download reads a UUID file box's bytes (Download).
func (p *Puppet) download(ctx context.Context, s *session, op, uuid string) ([]byte, error) {
	var data []byte
	err := p.call(ctx, op+": download", func(ctx context.Context) error {
		st, err := s.client.Download(ctx, &pbp.DownloadRequest{Id: uuid})
		if err != nil {
			return err
		}
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if len(data)+len(r.GetChunk()) > maxDownload {
				return fmt.Errorf("the file is larger than %d bytes", maxDownload)
			}
			data = append(data, r.GetChunk()...)
		}
	})
	return data, err
}

// MessageURL fetches the link card of a URL message (MessageUrl).
func (p *Puppet) MessageURL(ctx context.Context, messageID string) (puppet.URLLink, error) {
	op := fmt.Sprintf("link of message %q", messageID)
	s, err := p.connected(op, false)
	if err != nil {
		return puppet.URLLink{}, err
	}
	var link puppet.URLLink
	err = p.call(ctx, op, func(ctx context.Context) error {
		r, err := s.client.MessageUrl(ctx, &pbp.MessageUrlRequest{Id: messageID})
		if u := r.GetUrlLink(); u != nil {
			link = puppet.URLLink{URL: u.GetUrl(), Title: u.GetTitle(), Description: u.GetDescription(), ThumbnailURL: u.GetThumbnailUrl()}
		} else if d := deprecatedURLLink(r); d != "" {
			var j struct {
				URL          string `json:"url"`
				Title        string `json:"title"`
				Description  string `json:"description"`
				ThumbnailURL string `json:"thumbnailUrl"`
			}
			if json.Unmarshal([]byte(d), &j) == nil {
				link = puppet.URLLink(j)
			}
		}
		return err
	})
	return link, err
}

// deprecatedURLLink is the JSON that services before 2021 send instead of
// UrlLink.
func deprecatedURLLink(r *pbp.MessageUrlResponse) string {
	//lint:ignore SA1019 services before 2021 send only the JSON
	return r.GetUrlLinkDeprecated()
}

// MessageContact fetches the contact ID of a contact card message
// (MessageContact). An empty answer is an error.
func (p *Puppet) MessageContact(ctx context.Context, messageID string) (string, error) {
	op := fmt.Sprintf("contact card of message %q", messageID)
	s, err := p.connected(op, false)
	if err != nil {
		return "", err
	}
	var id string
	if err := p.call(ctx, op, func(ctx context.Context) error {
		r, err := s.client.MessageContact(ctx, &pbp.MessageContactRequest{Id: messageID})
		id = r.GetId()
		return err
	}); err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("wechatyservice: %s via %q: the service named no contact: %w", op, p.name, puppet.ErrPermanent)
	}
	return p.clean(id), nil
}

// Message types as wechaty-puppet numbers them: the numbers services put
// in MessagePayloadResponse.type (go-grpc's MessageType names differ).
const (
	msgUnknown    = 0
	msgAttachment = 1
	msgAudio      = 2
	msgContact    = 3
	msgEmoticon   = 5
	msgImage      = 6
	msgText       = 7
	msgURL        = 14
	msgVideo      = 15
)

// kindOf maps a service's message type to a media kind. Unknown (0) is
// text: services that never set the type send text.
func kindOf(t int32) puppet.MediaKind {
	switch t {
	case msgUnknown, msgText:
		return puppet.MediaText
	case msgImage, msgEmoticon:
		return puppet.MediaImage
	case msgAttachment, msgAudio, msgVideo:
		return puppet.MediaFile
	case msgURL:
		return puppet.MediaURL
	case msgContact:
		return puppet.MediaContact
	}
	return puppet.MediaOther
}

func mimeOf(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		return t
	}
	return "application/octet-stream"
}
