package servicetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
)

// Media in the scripted world. The server's PuppetMock delivers files
// (images, attachments) as messages, which the server reports; it takes
// link and contact card sends without doing anything, so the server
// reports what the service handed it instead. Media that a contact posts
// answer MessageFile, MessageUrl and MessageContact.

// deliveredFile is a file as the server reports it: its bytes (base64),
// its URL, or, for a file the bot uploaded first and sent as a UUID box,
// the upload's ID and the size and SHA-256 of the bytes the server read
// back from its store.
type deliveredFile struct {
	Name   string `json:"name"`
	Base64 string `json:"base64,omitempty"`
	URL    string `json:"url,omitempty"`
	UUID   string `json:"uuid,omitempty"`
	Size   int    `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// same tells whether the file has name and exactly data's bytes.
func (f *deliveredFile) same(name string, data []byte) bool {
	if f == nil || f.Name != name {
		return false
	}
	if f.UUID != "" {
		sum := sha256.Sum256(data)
		return f.Size == len(data) && f.SHA256 == hex.EncodeToString(sum[:])
	}
	got, err := base64.StdEncoding.DecodeString(f.Base64)
	return err == nil && bytes.Equal(got, data)
}

// DeliveredFile counts the deliveries to to of a file named name with
// exactly data's bytes, whether sent base64 or uploaded first (a UUID
// box, which DeliveredMedia cannot compare: the server reports only the
// size and SHA-256 of what it stored).
func (s *Server) DeliveredFile(to, name string, data []byte) int {
	n := 0
	for _, d := range s.Deliveries() {
		if d.To == to && d.File.same(name, data) {
			n++
		}
	}
	return n
}

// UploadedFiles returns the files the bot uploaded first and sent as UUID
// boxes (Upload), as name, size and SHA-256 (hex) of the bytes the server
// stored.
func (s *Server) UploadedFiles() []UploadedFile {
	var files []UploadedFile
	for _, d := range s.Deliveries() {
		if f := d.File; f != nil && f.UUID != "" {
			files = append(files, UploadedFile{To: d.To, Name: f.Name, Size: f.Size, SHA256: f.SHA256})
		}
	}
	return files
}

// UploadedFile is a file the bot uploaded and sent, as the server stored
// it.
type UploadedFile struct {
	To, Name string
	Size     int
	SHA256   string
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
