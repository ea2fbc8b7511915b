package servicetest

import (
	"encoding/base64"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
)

// Media in the scripted world. The server's PuppetMock delivers files
// (images, attachments) as messages, which the server reports; it takes
// link and contact card sends without doing anything, so the server
// reports what the service handed it instead. Media that a contact posts
// answer MessageFile, MessageUrl and MessageContact.

// deliveredFile is a file as the server reports it.
type deliveredFile struct {
	Name   string `json:"name"`
	Base64 string `json:"base64,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Media returns the media of a delivery, or ok false for text.
func (d Delivery) Media() (m puppet.Media, ok bool) {
	switch {
	case d.File != nil:
		data, err := base64.StdEncoding.DecodeString(d.File.Base64)
		if err != nil {
			return puppet.Media{}, false
		}
		kind := puppet.MediaFile
		if d.Kind == string(puppet.MediaImage) {
			kind = puppet.MediaImage
		}
		return puppet.Media{Kind: kind, File: &puppet.FileBox{Name: d.File.Name, Data: data, URL: d.File.URL}}, true
	case d.URL != nil:
		return puppet.LinkMedia(*d.URL), true
	case d.Kind == string(puppet.MediaContact):
		return puppet.ContactMedia(d.Contact), true
	}
	return puppet.Media{}, false
}

// DeliveredMedia counts the deliveries of media like m (puppettest.SameMedia)
// to to.
func (s *Server) DeliveredMedia(to string, m puppet.Media) int {
	n := 0
	for _, d := range s.Deliveries() {
		if got, ok := d.Media(); ok && d.To == to && puppettest.SameMedia(m, got) {
			n++
		}
	}
	return n
}

// PostMedia makes contact from send m to the bot (room "") or into room,
// as Post does text; id as for Post.
func (s *Server) PostMedia(from, room string, m puppet.Media, id string) error {
	cmd := map[string]any{"cmd": "post", "from": from, "room": room, "id": id, "kind": string(m.Kind)}
	switch {
	case m.File != nil:
		cmd["file"] = map[string]string{"name": m.File.Name, "base64": base64.StdEncoding.EncodeToString(m.File.Data)}
	case m.URL != nil:
		cmd["url"] = m.URL
	default:
		cmd["contact"] = m.Contact
	}
	return s.command(cmd)
}
