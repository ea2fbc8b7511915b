package puppet

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"runtime/debug"
	"strings"

	"github.com/hawechaty/hawechaty/actions"
)

// Media, as Wechaty has it: images, files, URL links and contact cards.
// The types are the plain data of actions, so that a send carrying media
// is in the pool's state like a text send.
type (
	// MediaKind tells what a message carries; the zero value is text.
	MediaKind = actions.MediaKind
	// FileBox is a file: a name, a MIME type, and the bytes or a URL.
	FileBox = actions.FileBox
	// URLLink is a link card.
	URLLink = actions.URLLink
	// Media is what a send carries instead of text.
	Media = actions.Media
)

// Media kinds.
const (
	MediaText    = actions.MediaText
	MediaImage   = actions.MediaImage
	MediaFile    = actions.MediaFile
	MediaURL     = actions.MediaURL
	MediaContact = actions.MediaContact
	MediaOther   = actions.MediaOther
)

// Optional capabilities of a Puppet for media, discovered with Capability.
// Their errors are classified like Say's (Classify).
type (
	// FileSender sends a file (an image when its MIME type says so).
	FileSender interface {
		SendFile(ctx context.Context, to string, file FileBox) error
	}
	// URLSender sends a link card.
	URLSender interface {
		SendURL(ctx context.Context, to string, link URLLink) error
	}
	// ContactSender sends the card of a contact (by contact ID).
	ContactSender interface {
		SendContact(ctx context.Context, to, contactID string) error
	}
	// MediaFetcher fetches what a received message carries, by the
	// message's ID (Message.ID, for a Message whose Kind is not text).
	MediaFetcher interface {
		// MessageFile returns the file of an image or file message. The
		// FileBox holds the bytes, or a URL the platform gave.
		MessageFile(ctx context.Context, messageID string) (FileBox, error)
		// MessageURL returns the link card of a URL message.
		MessageURL(ctx context.Context, messageID string) (URLLink, error)
		// MessageContact returns the contact ID of a contact card message.
		MessageContact(ctx context.Context, messageID string) (string, error)
	}
)

// Unwrapper is implemented by puppets that wrap another one (Guard, a
// renaming wrapper): Capability looks through them.
type Unwrapper interface {
	Unwrap() Puppet
}

// Capability returns the first puppet in p's chain of wrappers (p,
// p.Unwrap(), …) that implements T, such as FileSender or MediaFetcher.
func Capability[T any](p Puppet) (T, bool) {
	for range 16 { // a chain longer than this is a loop
		if c, ok := p.(T); ok {
			return c, true
		}
		u, ok := p.(Unwrapper)
		if !ok {
			break
		}
		p = u.Unwrap()
	}
	var zero T
	return zero, false
}

// ErrUnsupported is wrapped, with ErrPermanent, when a puppet lacks the
// capability a send or a fetch asks for.
var ErrUnsupported = errors.New("puppet: unsupported")

// ErrBadMedia is wrapped, with ErrPermanent, by SendMedia for media that
// cannot be sent as given (no file, a file with neither bytes nor URL, a
// link without URL, a card without contact).
var ErrBadMedia = errors.New("puppet: bad media")

// CheckMedia reports what is wrong with m, wrapping ErrBadMedia.
func CheckMedia(m Media) error {
	switch m.Kind {
	case MediaImage, MediaFile:
		switch {
		case m.File == nil:
			return fmt.Errorf("%w: %s without a file", ErrBadMedia, m.Kind)
		case m.File.Name == "":
			return fmt.Errorf("%w: a file without a name", ErrBadMedia)
		case len(m.File.Data) == 0 && m.File.URL == "":
			return fmt.Errorf("%w: file %q has neither bytes nor a URL", ErrBadMedia, m.File.Name)
		}
	case MediaURL:
		if m.URL == nil || m.URL.URL == "" {
			return fmt.Errorf("%w: a link without a URL", ErrBadMedia)
		}
	case MediaContact:
		if m.Contact == "" {
			return fmt.Errorf("%w: a contact card without a contact ID", ErrBadMedia)
		}
	default:
		return fmt.Errorf("%w: cannot send kind %q", ErrBadMedia, m.Kind)
	}
	return nil
}

// SendMedia sends m through p's capability for its kind (FileSender for
// images and files, URLSender, ContactSender). A puppet without it fails
// with ErrUnsupported and ErrPermanent; media that CheckMedia refuses with
// ErrBadMedia and ErrPermanent; nothing is sent then. A panic in the
// capability is a *PanicError, classified OutcomeUnknown, as in Guard.
func SendMedia(ctx context.Context, p Puppet, to string, m Media) (err error) {
	if err := CheckMedia(m); err != nil {
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	defer capabilityPanic(p, "Send "+string(m.Kind), &err)
	switch m.Kind {
	case MediaImage, MediaFile:
		if s, ok := Capability[FileSender](p); ok {
			return s.SendFile(ctx, to, *m.File)
		}
	case MediaURL:
		if s, ok := Capability[URLSender](p); ok {
			return s.SendURL(ctx, to, *m.URL)
		}
	case MediaContact:
		if s, ok := Capability[ContactSender](p); ok {
			return s.SendContact(ctx, to, m.Contact)
		}
	}
	return unsupported(p, "send "+string(m.Kind))
}

// CannotSend returns the media kinds p cannot send, because it lacks the
// capability for them (FileSender for images and files, URLSender,
// ContactSender), in that order; nil when it can send them all. The pool
// routes a send of a kind only to bots whose puppets can send it.
func CannotSend(p Puppet) []MediaKind {
	var out []MediaKind
	if _, ok := Capability[FileSender](p); !ok {
		out = append(out, MediaImage, MediaFile)
	}
	if _, ok := Capability[URLSender](p); !ok {
		out = append(out, MediaURL)
	}
	if _, ok := Capability[ContactSender](p); !ok {
		out = append(out, MediaContact)
	}
	return out
}

// FetchMedia fetches what the message with messageID carries, as kind
// says, through p's MediaFetcher: the result's File, URL or Contact is
// set. A puppet without the capability fails with ErrUnsupported.
func FetchMedia(ctx context.Context, p Puppet, messageID string, kind MediaKind) (m Media, err error) {
	f, ok := Capability[MediaFetcher](p)
	if !ok {
		return Media{}, unsupported(p, "fetch media")
	}
	defer capabilityPanic(p, "fetch "+string(kind), &err)
	m.Kind = kind
	switch kind {
	case MediaImage, MediaFile:
		var file FileBox
		if file, err = f.MessageFile(ctx, messageID); err == nil {
			m.File = &file
		}
	case MediaURL:
		var link URLLink
		if link, err = f.MessageURL(ctx, messageID); err == nil {
			m.URL = &link
		}
	case MediaContact:
		m.Contact, err = f.MessageContact(ctx, messageID)
	default:
		return Media{}, fmt.Errorf("puppet: message %q: nothing to fetch for kind %q: %w", messageID, kind, ErrPermanent)
	}
	if err != nil {
		return Media{}, err
	}
	return m, nil
}

func unsupported(p Puppet, what string) error {
	return fmt.Errorf("puppet %s: %w: cannot %s: %w", safeName(p), ErrUnsupported, what, ErrPermanent)
}

// safeName is p's Name, or its type when Name panics.
func safeName(p Puppet) (name string) {
	defer func() {
		if recover() != nil {
			name = fmt.Sprintf("%T", p)
		}
	}()
	return p.Name()
}

// capabilityPanic turns a panic of a capability into *err; deferred
// directly.
func capabilityPanic(p Puppet, method string, err *error) {
	if v := recover(); v != nil {
		*err = &PanicError{Puppet: safeName(p), Method: method, Value: v, Stack: debug.Stack()}
	}
}

// FileFromBytes returns a file held in memory. Its MIME type comes from
// the name's extension ("application/octet-stream" when unknown); images
// sent with it show as images.
func FileFromBytes(name string, data []byte) FileBox {
	return FileBox{Name: name, MIME: mimeOf(name), Size: int64(len(data)), Data: data}
}

// FileFromURL returns a remote file: the platform fetches it. The name
// defaults to the URL path's last element.
func FileFromURL(rawURL, name string) FileBox {
	if name == "" {
		if u, err := url.Parse(rawURL); err == nil {
			name = path.Base(u.Path)
		}
		if name == "" || name == "/" || name == "." {
			name = "file"
		}
	}
	return FileBox{Name: name, MIME: mimeOf(name), URL: rawURL}
}

func mimeOf(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		return t
	}
	return "application/octet-stream"
}

// FileMedia returns media that sends file: MediaImage when its MIME type
// is an image's, else MediaFile.
func FileMedia(file FileBox) Media {
	kind := MediaFile
	if strings.HasPrefix(file.MIME, "image/") {
		kind = MediaImage
	}
	return Media{Kind: kind, File: &file}
}

// LinkMedia returns media that sends a link card.
func LinkMedia(link URLLink) Media { return Media{Kind: MediaURL, URL: &link} }

// ContactMedia returns media that sends the card of contactID.
func ContactMedia(contactID string) Media { return Media{Kind: MediaContact, Contact: contactID} }
