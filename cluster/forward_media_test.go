package cluster

import (
	"context"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkSayer is a sayer that can also send link cards.
type linkSayer struct {
	*sayer
	mu    sync.Mutex
	links []puppet.URLLink
}

func (s *linkSayer) SendURL(_ context.Context, _ string, link puppet.URLLink) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links = append(s.links, link)
	return nil
}

// TestForwardedMediaIsSentAsMedia: a link card routed to a bot another
// process drives is sent there with the puppet's capability, not as the
// send's text.
func TestForwardedMediaIsSentAsMedia(t *testing.T) {
	n1, n2 := twoNodes(t, "", true)
	ls := &linkSayer{sayer: n2.puppets["b2"]}
	owner := Owner{State: n2.st.State, Dispatch: n2.st.Dispatch,
		Puppet: func(b string) (puppet.Puppet, bool) {
			if b == "b2" {
				return ls, true
			}
			p, ok := n2.puppets[b]
			return p, ok
		}}
	n2.cancel()
	require.NoError(t, <-n2.done)
	ctx, cancel := context.WithCancel(context.Background())
	n2.cancel, n2.done = cancel, make(chan error, 1)
	go func() { n2.done <- n2.fw.Run(ctx, owner) }()

	link := puppet.URLLink{URL: "https://example.com/a", Title: "a card"}
	m := puppet.LinkMedia(link)
	require.NoError(t, n1.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: "m1", To: "alice", Text: link.URL, Media: &m})))
	sd := n1.wait("m1")
	assert.Equal(t, actions.Delivered, sd.Outcome, sd.Error)
	assert.Equal(t, "n2", sd.Node)
	assert.Zero(t, ls.n.Load(), "not sent as text")
	ls.mu.Lock()
	defer ls.mu.Unlock()
	assert.Equal(t, []puppet.URLLink{link}, ls.links)
}
