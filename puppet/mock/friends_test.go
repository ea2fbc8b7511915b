package mock_test

import (
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/samber/lo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bot added WithFriends reaches only its friends: other sends are
// refused as not a friend (not sent), Contacts lists only the friends,
// Befriend tells the bot, Unfriend does not.
func TestFriendships(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		require.NoError(t, w.AddContact("alice", "Alice"))
		require.NoError(t, w.AddContact("bob", "Bob"))
		picky, err := w.AddBot("picky", mock.WithFriends("alice"))
		require.NoError(t, err)
		open, err := w.AddBot("open")
		require.NoError(t, err)
		for _, b := range []*mock.Bot{picky, open} {
			require.NoError(t, b.Start(t.Context()))
			<-b.Events() // login
		}
		ids := func(b *mock.Bot) []string {
			cs, err := b.Contacts(t.Context())
			require.NoError(t, err)
			return lo.Map(cs, func(c puppet.Contact, _ int) string { return c.ID })
		}
		assert.Equal(t, []string{"alice"}, ids(picky), "no official account, no bob, no other bot")
		assert.Equal(t, []string{mock.DefaultHeartbeatContact, "alice", "bob", "picky"}, ids(open))

		require.NoError(t, picky.Say(t.Context(), "alice", "hi"))
		err = picky.Say(t.Context(), "bob", "hi")
		assert.ErrorIs(t, err, mock.ErrNotFriend)
		assert.ErrorIs(t, err, puppet.ErrNotFriend)
		assert.Equal(t, puppet.Unreachable, puppet.Classify(err))
		assert.Equal(t, puppet.Unreachable, puppet.Classify(picky.Say(t.Context(), mock.DefaultHeartbeatContact, "ding")))

		require.NoError(t, w.Befriend("picky", "bob"))
		ev := <-picky.Events()
		assert.Equal(t, puppet.Event{Kind: puppet.EventFriendAdded, Data: "bob", Time: ev.Time}, ev)
		require.NoError(t, picky.Say(t.Context(), "bob", "hi"))
		require.NoError(t, w.Befriend("picky", "bob"), "twice is a no-op")

		require.NoError(t, w.Unfriend("open", "alice"))
		assert.Equal(t, puppet.Unreachable, puppet.Classify(open.Say(t.Context(), "alice", "hi")))
		assert.NotContains(t, ids(open), "alice")
		require.NoError(t, w.Befriend("open", "alice"))
		require.NoError(t, open.Say(t.Context(), "alice", "hi"))

		assert.ErrorIs(t, w.Befriend("nobody", "alice"), mock.ErrUnknown)
		assert.ErrorIs(t, w.Befriend("picky", "nobody"), mock.ErrUnknown)
		assert.ErrorIs(t, w.Unfriend("nobody", "alice"), mock.ErrUnknown)
		assert.Len(t, w.Delivered(), 3)
		synctest.Wait() // the bot's event pump
		select {
		case ev := <-open.Events():
			assert.Equal(t, puppet.EventFriendAdded, ev.Kind, "Befriend told the open bot")
		default:
			t.Error("Befriend after Unfriend told nothing")
		}
	})
}

// Bots on different providers see one message under different IDs.
func TestProviders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		require.NoError(t, w.AddContact("carol", "Carol"))
		a, err := w.AddBot("a", mock.WithProvider("padlocal"))
		require.NoError(t, err)
		b, err := w.AddBot("b")
		require.NoError(t, err)
		require.NoError(t, w.AddRoom("r", "t", "carol", "a", "b"))
		for _, bot := range []*mock.Bot{a, b} {
			require.NoError(t, bot.Start(t.Context()))
			<-bot.Events()
		}
		id, err := w.Post("carol", "r", "hello")
		require.NoError(t, err)
		ea, eb := <-a.Events(), <-b.Events()
		assert.Equal(t, "padlocal:"+id, ea.Message.ID)
		assert.Equal(t, id, eb.Message.ID)
		assert.Equal(t, ea.Message.Text, eb.Message.Text)
	})
}
