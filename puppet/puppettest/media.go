package puppettest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
)

// pngPixel is a 1×1 PNG: the image the media checks send.
var pngPixel = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
	0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
	0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
}

// SampleMedia returns the media the checks send and post, of kind; contact
// is the contact ID a contact card names.
func SampleMedia(kind puppet.MediaKind, contact string) puppet.Media {
	switch kind {
	case puppet.MediaImage:
		return puppet.FileMedia(puppet.FileFromBytes("pixel.png", pngPixel))
	case puppet.MediaFile:
		f := puppet.FileFromBytes("notes.txt", []byte("HAWechaty media check\n"))
		return puppet.Media{Kind: puppet.MediaFile, File: &f}
	case puppet.MediaURL:
		return puppet.LinkMedia(puppet.URLLink{URL: "https://wechaty.js.org/", Title: "Wechaty", Description: "Conversational RPA SDK", ThumbnailURL: "https://wechaty.js.org/img/wechaty-icon.png"})
	case puppet.MediaContact:
		return puppet.ContactMedia(contact)
	}
	return puppet.Media{Kind: kind}
}

// SameMedia reports whether got carries what want does: a file's name and
// bytes, a link's URL and title, a card's contact.
func SameMedia(want, got puppet.Media) bool {
	switch {
	case want.File != nil:
		return got.File != nil && got.File.Name == want.File.Name && bytes.Equal(got.File.Data, want.File.Data)
	case want.URL != nil:
		return got.URL != nil && got.URL.URL == want.URL.URL && got.URL.Title == want.URL.Title
	}
	return got.Contact == want.Contact && want.Contact != ""
}

func testSendMedia(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	for _, kind := range h.Features.SendMedia {
		m := SampleMedia(kind, s.Contact)
		for _, to := range []string{s.Contact, s.Room} {
			if err := puppet.SendMedia(ctx, s.Puppet, to, m); err != nil {
				t.Fatalf("send %s to %q: %v", kind, to, err)
			}
			if h.Features.Delivery && !eventually(ctx, func() bool { return s.DeliveredMedia(to, m) }) {
				t.Errorf("send %s to %q returned nil but the world never received it", kind, to)
			}
		}
		err := puppet.SendMedia(ctx, s.Puppet, "no-such-conversation-4711", m)
		if got := puppet.Classify(err); got != puppet.Permanent {
			t.Errorf("send %s to an unknown target: %v (%v), want permanent", kind, err, got)
		}
	}
	bad := puppet.Media{Kind: puppet.MediaFile, File: &puppet.FileBox{Name: "empty.bin"}}
	if err := puppet.SendMedia(ctx, s.Puppet, s.Contact, bad); !errors.Is(err, puppet.ErrBadMedia) || puppet.Classify(err) != puppet.Permanent {
		t.Errorf("send a file with neither bytes nor URL: %v, want bad media, permanent", err)
	}
}

func testSendMediaStopped(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	m := SampleMedia(h.Features.SendMedia[0], s.Contact)
	err := puppet.SendMedia(ctx, s.Puppet, s.Contact, m)
	if got := puppet.Classify(err); got != puppet.NotSent {
		t.Errorf("send %s on a stopped puppet: %v (%v), want not sent", m.Kind, err, got)
	}
	if h.Features.Delivery && s.DeliveredMedia(s.Contact, m) {
		t.Error("a send on a stopped puppet reached the world")
	}
}

func testInboundMedia(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	for _, kind := range h.Features.InboundMedia {
		want := SampleMedia(kind, s.Contact)
		for _, conv := range []string{"", s.Room} {
			if err := s.PostMedia(conv, want); err != nil {
				t.Fatalf("PostMedia %s: %v", kind, err)
			}
			ev := waitFor(t, ctx, s.Puppet, "a "+string(kind)+" message", func(ev puppet.Event) bool {
				return ev.Kind == puppet.EventMessage && ev.Message != nil && ev.Message.Kind != puppet.MediaText
			})
			m := ev.Message
			if m.Kind != kind || m.From != s.Contact || m.Room != map[bool]string{true: s.Room}[conv != ""] {
				t.Errorf("%s message %+v: want kind %s from %q in room %q", kind, m, kind, s.Contact, conv)
			}
			got, err := puppet.FetchMedia(ctx, s.Puppet, m.ID, m.Kind)
			if err != nil {
				t.Fatalf("FetchMedia %s %q: %v", kind, m.ID, err)
			}
			if !SameMedia(want, got) {
				t.Errorf("fetched %s %+v, want %+v", kind, describeMedia(got), describeMedia(want))
			}
		}
	}
	if _, err := puppet.FetchMedia(ctx, s.Puppet, "no-such-message-4711", h.Features.InboundMedia[0]); err == nil {
		t.Error("FetchMedia of an unknown message: nil error")
	}
}

// describeMedia is m without a file's bytes, for failure messages.
func describeMedia(m puppet.Media) puppet.Media {
	if m.File != nil {
		f := *m.File
		f.Data = slices.Clip(f.Data[:min(len(f.Data), 16)])
		m.File = &f
	}
	return m
}
