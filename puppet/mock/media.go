package mock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// Media in the mock world: bots send images, files, link cards and contact
// cards with the faults of Say, the world records them in Delivered (with
// Delivery.Media) and hands them to the other bots as messages of their
// kind, whose media the bots fetch by message ID.

var (
	_ puppet.FileSender    = (*Bot)(nil)
	_ puppet.URLSender     = (*Bot)(nil)
	_ puppet.ContactSender = (*Bot)(nil)
	_ puppet.MediaFetcher  = (*Bot)(nil)
)

// ErrNoMedia is wrapped when a message ID names no message with media of
// the kind asked for.
var ErrNoMedia = errors.New("mock: no such media message")

// SendFile sends a file (an image when its MIME type is an image's), with
// Say's faults and outcomes.
func (b *Bot) SendFile(ctx context.Context, to string, file puppet.FileBox) error {
	return b.sendMedia(ctx, to, puppet.FileMedia(file))
}

// SendURL sends a link card, with Say's faults and outcomes.
func (b *Bot) SendURL(ctx context.Context, to string, link puppet.URLLink) error {
	return b.sendMedia(ctx, to, puppet.LinkMedia(link))
}

// SendContact sends the card of a contact or bot of the world, with Say's
// faults and outcomes; an unknown contact is a permanent failure.
func (b *Bot) SendContact(ctx context.Context, to, contactID string) error {
	b.w.mu.Lock()
	known := b.w.isPersonLocked(contactID)
	b.w.mu.Unlock()
	if !known {
		return fmt.Errorf("mock: %q sends the card of %q: %w: %w", b.id, contactID, ErrUnknown, puppet.ErrPermanent)
	}
	return b.sendMedia(ctx, to, puppet.ContactMedia(contactID))
}

func (b *Bot) sendMedia(ctx context.Context, to string, m puppet.Media) error {
	if err := puppet.CheckMedia(m); err != nil {
		return fmt.Errorf("mock: %q sends to %q: %w: %w", b.id, to, err, puppet.ErrPermanent)
	}
	m = cloneMedia(m)
	return b.send(ctx, to, func() { b.w.deliverMediaLocked(b.id, to, m) })
}

// MessageFile returns the file of an image or file message the bot may
// have seen.
func (b *Bot) MessageFile(ctx context.Context, messageID string) (puppet.FileBox, error) {
	m, err := b.media(ctx, messageID, puppet.MediaImage, puppet.MediaFile)
	if err != nil {
		return puppet.FileBox{}, err
	}
	return *m.File, nil
}

// MessageURL returns the link card of a URL message.
func (b *Bot) MessageURL(ctx context.Context, messageID string) (puppet.URLLink, error) {
	m, err := b.media(ctx, messageID, puppet.MediaURL)
	if err != nil {
		return puppet.URLLink{}, err
	}
	return *m.URL, nil
}

// MessageContact returns the contact ID of a contact card message.
func (b *Bot) MessageContact(ctx context.Context, messageID string) (string, error) {
	m, err := b.media(ctx, messageID, puppet.MediaContact)
	if err != nil {
		return "", err
	}
	return m.Contact, nil
}

func (b *Bot) media(ctx context.Context, id string, kinds ...puppet.MediaKind) (puppet.Media, error) {
	if err := b.query(ctx, "media of "+id); err != nil {
		return puppet.Media{}, err
	}
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	m, ok := b.w.media[id]
	if !ok || !slices.Contains(kinds, m.Kind) {
		return puppet.Media{}, fmt.Errorf("mock: %q media of %q (%v): %w: %w", b.id, id, kinds, ErrNoMedia, puppet.ErrPermanent)
	}
	return cloneMedia(m), nil
}

// PostMedia makes a contact (or bot) send media to a room it is in, or
// directly to a bot, as Post does text. It returns the message ID, under
// which the bots that see it fetch the media.
func (w *World) PostMedia(from, conversation string, m puppet.Media) (string, error) {
	if err := puppet.CheckMedia(m); err != nil {
		return "", fmt.Errorf("mock: post media from %q: %w", from, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkPostLocked(from, conversation); err != nil {
		return "", err
	}
	return w.postMediaLocked(from, conversation, cloneMedia(m)), nil
}

// DeliveredMedia returns the deliveries that carried media, in order.
func (w *World) DeliveredMedia() []Delivery {
	return slices.DeleteFunc(w.Delivered(), func(d Delivery) bool { return d.Media == nil })
}

// deliverMediaLocked records media sent by bot and passes it on.
func (w *World) deliverMediaLocked(bot, to string, m puppet.Media) {
	id := w.postMediaLocked(bot, to, m)
	w.delivered = append(w.delivered, Delivery{Bot: bot, To: to, Text: describe(m), MessageID: id, Time: time.Now(), Media: &m})
}

// postMediaLocked hands media to whichever bots see it and keeps it for
// their fetches.
func (w *World) postMediaLocked(from, to string, m puppet.Media) string {
	id := w.postLocked(from, to, puppet.Message{Text: describe(m), Kind: m.Kind})
	w.media[id] = m
	return id
}

// describe is a media message's text: the file's name, the link's URL, the
// card's contact ID.
func describe(m puppet.Media) string {
	switch {
	case m.File != nil:
		return m.File.Name
	case m.URL != nil:
		return m.URL.URL
	}
	return m.Contact
}

// cloneMedia copies m deeply, so that the world's record does not change
// with the caller's slices.
func cloneMedia(m puppet.Media) puppet.Media {
	if m.File != nil {
		f := *m.File
		f.Data = slices.Clone(f.Data)
		m.File = &f
	}
	if m.URL != nil {
		u := *m.URL
		m.URL = &u
	}
	return m
}
