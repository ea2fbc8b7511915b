package actions

// Media in sends and messages: plain data, so that a send carrying a file,
// a link or a contact card is in the state like a text send. The puppet
// package gives these types their constructors and the capabilities that
// send and fetch them.

// MediaKind tells what a message carries. The zero value is text.
type MediaKind string

// Media kinds.
const (
	MediaText    MediaKind = ""        // text only
	MediaImage   MediaKind = "image"   // a picture (File)
	MediaFile    MediaKind = "file"    // any other file: attachment, audio, video (File)
	MediaURL     MediaKind = "url"     // a link card (URL)
	MediaContact MediaKind = "contact" // a contact card (Contact)
	MediaOther   MediaKind = "other"   // something the pool does not read (location, mini program, …)
)

// FileBox is a file as Wechaty's FileBox carries it: a name, a MIME type,
// and either the bytes or a URL to fetch them from.
type FileBox struct {
	Name string `json:"name"`
	MIME string `json:"mime,omitempty"`
	// Size is the size in bytes, when known (len(Data) for bytes).
	Size int64 `json:"size,omitempty"`
	// Data holds the bytes of a file in memory.
	Data []byte `json:"data,omitempty"`
	// URL is where a remote file is; the platform fetches it.
	URL string `json:"url,omitempty"`
}

// URLLink is a link card: a URL with a title, a description and a
// thumbnail.
type URLLink struct {
	URL          string `json:"url"`
	Title        string `json:"title"`
	Description  string `json:"description,omitempty"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
}

// Media is what a send carries besides text: one of File (MediaImage,
// MediaFile), URL (MediaURL) or Contact (MediaContact, a contact ID),
// as Kind says.
type Media struct {
	Kind    MediaKind `json:"kind"`
	File    *FileBox  `json:"file,omitempty"`
	URL     *URLLink  `json:"url,omitempty"`
	Contact string    `json:"contact,omitempty"`
}
