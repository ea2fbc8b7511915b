package puppet_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hawechaty/hawechaty/puppet"
)

// Media values are plain data; the MIME type comes from the file name, and
// an image's MIME type makes FileMedia an image.
func ExampleFileMedia() {
	img := puppet.FileMedia(puppet.FileFromBytes("chart.png", []byte("…")))
	doc := puppet.FileMedia(puppet.FileFromURL("https://example.com/q3/report.pdf", ""))
	fmt.Println(img.Kind, img.File.MIME, img.File.Size)
	fmt.Println(doc.Kind, doc.File.Name, doc.File.MIME)
	fmt.Println(puppet.CheckMedia(puppet.ContactMedia("")))
	// Output:
	// image image/png 3
	// file report.pdf application/pdf
	// puppet: bad media: a contact card without a contact ID
}

// A puppet without the capability answers unsupported, a permanent
// outcome: the pool does not try another bot.
func ExampleSendMedia() {
	var p puppet.Puppet = textOnlyPuppet{}
	err := puppet.SendMedia(context.Background(), p, "alice", puppet.LinkMedia(puppet.URLLink{URL: "https://wechaty.js.org"}))
	fmt.Println(errors.Is(err, puppet.ErrUnsupported), puppet.Classify(err))
	// Output:
	// true permanent
}

type textOnlyPuppet struct{ puppet.Puppet }

func (textOnlyPuppet) Name() string { return "text-only" }

// How HAWechaty's puppet names are served in Go.
func ExampleLookupWechatyName() {
	for _, name := range []string{"wechaty-puppet-padlocal", "wechaty-puppet-hostie", "wechaty-puppet-wechat"} {
		w, _ := puppet.LookupWechatyName(name)
		fmt.Printf("%s: %q\n", name, w.Via)
	}
	// Output:
	// wechaty-puppet-padlocal: "wechaty-puppet-service"
	// wechaty-puppet-hostie: "wechaty-puppet-service"
	// wechaty-puppet-wechat: ""
}
