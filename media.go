package hawechaty

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
)

// Send sends media (an image or file, a link card, a contact card; see
// puppet.FileMedia, puppet.LinkMedia, puppet.ContactMedia) to a room or
// contact through one available bot that can reach it, with Say's
// routing, retries and exactly-once rules and the same results.
//
// Bots send media through their puppet's capabilities (puppet.FileSender,
// puppet.URLSender, puppet.ContactSender). Routing does not look at them:
// a bot whose puppet lacks the capability answers unsupported, a permanent
// outcome (the error wraps puppet.ErrUnsupported and puppet.ErrPermanent),
// and the send ends there, as for a refused text: in a pool of mixed
// puppets, send media only through puppets that all have it. Media that
// cannot be sent as given (puppet.CheckMedia) is refused before anything
// is sent, with an error wrapping puppet.ErrBadMedia.
//
// The send and its media are in the pool's state while it is in flight,
// file bytes included (they show in DevTools as base64). Send keeps its
// own copy of m's file and link, but not of the file's bytes: do not
// change them while the send is in flight, nor later if the store's
// history is kept (DevTools).
func (p *Pool) Send(ctx context.Context, to string, m puppet.Media) (Receipt, error) {
	if err := puppet.CheckMedia(m); err != nil {
		return Receipt{}, fmt.Errorf("hawechaty: send to %q: %w", to, err)
	}
	// The state is immutable: the caller's FileBox or URLLink, reused
	// for the next send, must not change it.
	if m.File != nil {
		f := *m.File
		m.File = &f
	}
	if m.URL != nil {
		l := *m.URL
		m.URL = &l
	}
	return p.send(ctx, actions.SendPayload{To: to, Media: &m})
}

// File fetches the file of an image or file message (Kind MediaImage or
// MediaFile) through the bot that received it.
func (m Message) File(ctx context.Context) (puppet.FileBox, error) {
	media, err := m.fetch(ctx, puppet.MediaImage, puppet.MediaFile)
	if err != nil {
		return puppet.FileBox{}, err
	}
	return *media.File, nil
}

// URL fetches the link card of a URL message (Kind MediaURL) through the
// bot that received it.
func (m Message) URL(ctx context.Context) (puppet.URLLink, error) {
	media, err := m.fetch(ctx, puppet.MediaURL)
	if err != nil {
		return puppet.URLLink{}, err
	}
	return *media.URL, nil
}

// ContactCard fetches the contact ID of a contact card message (Kind
// MediaContact) through the bot that received it.
func (m Message) ContactCard(ctx context.Context) (string, error) {
	media, err := m.fetch(ctx, puppet.MediaContact)
	if err != nil {
		return "", err
	}
	return media.Contact, nil
}

// fetch asks the receiving bot's puppet for the message's media, if the
// message is of one of kinds.
func (m Message) fetch(ctx context.Context, kinds ...puppet.MediaKind) (puppet.Media, error) {
	ok := false
	for _, k := range kinds {
		ok = ok || m.Kind == k
	}
	if !ok {
		return puppet.Media{}, fmt.Errorf("hawechaty: message %q is %s, not %v: %w", m.ID, kindName(m.Kind), kinds, puppet.ErrPermanent)
	}
	if m.pool == nil {
		return puppet.Media{}, fmt.Errorf("hawechaty: message %q comes from no pool", m.ID)
	}
	if ctx == nil {
		return puppet.Media{}, fmt.Errorf("hawechaty: message %q: fetch with a nil context", m.ID)
	}
	pup, found := m.pool.puppet(m.Bot)
	if !found {
		return puppet.Media{}, fmt.Errorf("hawechaty: message %q: bot %q has left the pool", m.ID, m.Bot)
	}
	media, err := puppet.FetchMedia(ctx, pup, m.ID, m.Kind)
	if err != nil {
		return puppet.Media{}, fmt.Errorf("hawechaty: message %q via %q: %w", m.ID, m.Bot, err)
	}
	return media, nil
}

func kindName(k puppet.MediaKind) string {
	if k == puppet.MediaText {
		return "text"
	}
	return string(k)
}

// The pool's own wrapper counts media calls like Say (see calls): a
// puppet is never closed under one. A puppet without the capability
// answers unsupported through these as directly.
var (
	_ puppet.FileSender    = tracked{}
	_ puppet.URLSender     = tracked{}
	_ puppet.ContactSender = tracked{}
	_ puppet.MediaFetcher  = tracked{}
)

func (t tracked) SendFile(ctx context.Context, to string, file puppet.FileBox) error {
	return t.run(ctx, "SendFile", func(ctx context.Context) error {
		return puppet.SendMedia(ctx, t.Puppet, to, puppet.Media{Kind: puppet.MediaFile, File: &file})
	})
}

func (t tracked) SendURL(ctx context.Context, to string, link puppet.URLLink) error {
	return t.run(ctx, "SendURL", func(ctx context.Context) error {
		return puppet.SendMedia(ctx, t.Puppet, to, puppet.LinkMedia(link))
	})
}

func (t tracked) SendContact(ctx context.Context, to, contactID string) error {
	return t.run(ctx, "SendContact", func(ctx context.Context) error {
		return puppet.SendMedia(ctx, t.Puppet, to, puppet.ContactMedia(contactID))
	})
}

func (t tracked) MessageFile(ctx context.Context, id string) (f puppet.FileBox, err error) {
	err = t.run(ctx, "MessageFile", func(ctx context.Context) error {
		m, err := puppet.FetchMedia(ctx, t.Puppet, id, puppet.MediaFile)
		if err == nil {
			f = *m.File
		}
		return err
	})
	return f, err
}

func (t tracked) MessageURL(ctx context.Context, id string) (l puppet.URLLink, err error) {
	err = t.run(ctx, "MessageURL", func(ctx context.Context) error {
		m, err := puppet.FetchMedia(ctx, t.Puppet, id, puppet.MediaURL)
		if err == nil {
			l = *m.URL
		}
		return err
	})
	return l, err
}

func (t tracked) MessageContact(ctx context.Context, id string) (c string, err error) {
	err = t.run(ctx, "MessageContact", func(ctx context.Context) error {
		m, err := puppet.FetchMedia(ctx, t.Puppet, id, puppet.MediaContact)
		c = m.Contact
		return err
	})
	return c, err
}
