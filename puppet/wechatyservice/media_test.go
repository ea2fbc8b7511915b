package wechatyservice_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImageThroughMessageImage: a service that serves images only through
// MessageImage (its MessageFile refuses them) still gives the image.
func TestImageThroughMessageImage(t *testing.T) {
	n := newFakeNet(t, testToken)
	n.svc.mu.Lock()
	n.svc.imagesApart = true
	n.svc.mu.Unlock()
	p, ctx := loggedIn(t, n)

	img := puppettest.SampleMedia(puppet.MediaImage, "")
	n.svc.postMedia("", img)
	m := waitEvent(t, ctx, p, puppet.EventMessage).Message
	require.Equal(t, puppet.MediaImage, m.Kind)
	got, err := p.MessageFile(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, img.File.Data, got.Data)
	assert.Equal(t, "image/png", got.MIME)

	_, err = p.MessageFile(ctx, "no-such-message")
	assert.ErrorContains(t, err, "no file in no-such-message", "the first error is the one reported")
}
