package mock_test

import (
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegisteredPuppetLivesInTheDefaultWorld(t *testing.T) {
	assert.Contains(t, puppet.Names(), "mock")
	p, err := puppet.New("mock", puppet.Config{Name: "mock#register-test", Token: puppet.NewSecret("ignored")})
	require.NoError(t, err)
	defer p.Close()
	assert.Equal(t, "mock#register-test", p.Name())

	w := mock.DefaultWorld()
	assert.Same(t, w, mock.DefaultWorld())
	b, ok := w.Bot("mock#register-test")
	require.True(t, ok)
	assert.Same(t, p, puppet.Puppet(b))

	require.NoError(t, p.Start(t.Context()))
	assert.Equal(t, puppet.EventLogin, recv(t, p).Kind)
	id, err := w.Post("alice", mock.DefaultRoom, "hi")
	require.NoError(t, err)
	assert.Equal(t, id, recv(t, p).Message.ID, "the bot is in the default room")
	require.NoError(t, p.Say(t.Context(), "bob", "hello"))

	_, err = puppet.New("mock", puppet.Config{Name: "mock#register-test"})
	assert.ErrorIs(t, err, mock.ErrExists, "one bot per name")
	assert.ErrorContains(t, err, `mock: registered puppet "mock#register-test"`)
	_, err = puppet.New("mock", puppet.Config{})
	assert.ErrorIs(t, err, mock.ErrInvalidID)
}

// recv returns p's next event, failing after a real-time deadline.
func recv(t *testing.T, p puppet.Puppet) puppet.Event {
	t.Helper()
	select {
	case ev := <-p.Events():
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event before the deadline")
		return puppet.Event{}
	}
}
