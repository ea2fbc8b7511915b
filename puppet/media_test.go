package puppet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plain is a puppet with no capability; fileBot adds a FileSender that
// records what it was given, or panics.
type plain struct{ puppet.Puppet }

func (plain) Name() string { return "plain" }

type fileBot struct {
	plain
	got   []puppet.FileBox
	panic bool
}

func (f *fileBot) SendFile(_ context.Context, _ string, file puppet.FileBox) error {
	if f.panic {
		panic("boom")
	}
	f.got = append(f.got, file)
	return nil
}

// wrapper hides its puppet's methods but unwraps to it.
type wrapper struct{ puppet.Puppet }

func (w wrapper) Unwrap() puppet.Puppet { return w.Puppet }

func TestCheckMedia(t *testing.T) {
	data := puppet.FileFromBytes("a.png", []byte{1})
	for _, tt := range []struct {
		m  puppet.Media
		ok bool
	}{
		{puppet.FileMedia(data), true},
		{puppet.FileMedia(puppet.FileFromURL("https://example.com/x/report.pdf", "")), true},
		{puppet.LinkMedia(puppet.URLLink{URL: "https://example.com"}), true},
		{puppet.ContactMedia("alice"), true},
		{puppet.Media{Kind: puppet.MediaImage}, false},
		{puppet.Media{Kind: puppet.MediaFile, File: &puppet.FileBox{Name: "x"}}, false},
		{puppet.Media{Kind: puppet.MediaFile, File: &puppet.FileBox{Data: []byte{1}}}, false},
		{puppet.LinkMedia(puppet.URLLink{Title: "no url"}), false},
		{puppet.ContactMedia(""), false},
		{puppet.Media{}, false},
		{puppet.Media{Kind: puppet.MediaOther}, false},
	} {
		err := puppet.CheckMedia(tt.m)
		if tt.ok {
			assert.NoError(t, err, "%+v", tt.m)
		} else {
			assert.ErrorIs(t, err, puppet.ErrBadMedia, "%+v", tt.m)
		}
	}
}

func TestFileHelpers(t *testing.T) {
	f := puppet.FileFromBytes("Pixel.PNG", []byte{1, 2, 3})
	assert.Equal(t, puppet.FileBox{Name: "Pixel.PNG", MIME: "image/png", Size: 3, Data: []byte{1, 2, 3}}, f)
	assert.Equal(t, puppet.MediaImage, puppet.FileMedia(f).Kind)
	assert.Equal(t, puppet.MediaFile, puppet.FileMedia(puppet.FileFromBytes("blob", []byte{1})).Kind)
	assert.Equal(t, "application/octet-stream", puppet.FileFromBytes("blob", nil).MIME)
	u := puppet.FileFromURL("https://example.com/docs/report.pdf?x=1", "")
	assert.Equal(t, "report.pdf", u.Name)
	assert.Equal(t, "application/pdf", u.MIME)
	assert.Equal(t, "file", puppet.FileFromURL("https://example.com/", "").Name)
	assert.Equal(t, "mine.bin", puppet.FileFromURL("https://example.com/", "mine.bin").Name)
}

// TestSendMediaFindsTheCapability: through wrappers that unwrap (Guard
// included), and unsupported without it; a panic is a PanicError.
func TestSendMediaFindsTheCapability(t *testing.T) {
	ctx := context.Background()
	img := puppet.FileMedia(puppet.FileFromBytes("a.png", []byte{1}))
	f := &fileBot{}
	for _, p := range []puppet.Puppet{f, wrapper{f}, puppet.Guard(wrapper{f})} {
		require.NoError(t, puppet.SendMedia(ctx, p, "alice", img))
	}
	assert.Len(t, f.got, 3)

	err := puppet.SendMedia(ctx, puppet.Guard(plain{}), "alice", img)
	assert.ErrorIs(t, err, puppet.ErrUnsupported)
	assert.Equal(t, puppet.Permanent, puppet.Classify(err))
	err = puppet.SendMedia(ctx, f, "alice", puppet.LinkMedia(puppet.URLLink{URL: "https://example.com"}))
	assert.ErrorIs(t, err, puppet.ErrUnsupported, "a file sender cannot send links")
	_, err = puppet.FetchMedia(ctx, f, "m1", puppet.MediaImage)
	assert.ErrorIs(t, err, puppet.ErrUnsupported)

	err = puppet.SendMedia(ctx, f, "alice", puppet.Media{Kind: puppet.MediaFile, File: &puppet.FileBox{Name: "x"}})
	assert.ErrorIs(t, err, puppet.ErrBadMedia)
	assert.Equal(t, puppet.Permanent, puppet.Classify(err))

	f.panic = true
	err = puppet.SendMedia(ctx, puppet.Guard(f), "alice", img)
	var pe *puppet.PanicError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, "boom", pe.Value)
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))

	_, ok := puppet.Capability[puppet.Dinger](wrapper{f})
	assert.False(t, ok)
}
