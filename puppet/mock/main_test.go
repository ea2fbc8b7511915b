package mock_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// world builds alice, bots b1 and b2, and room "team" with all three.
func world(t *testing.T, opts ...mock.Option) (*mock.World, *mock.Bot, *mock.Bot) {
	t.Helper()
	w := mock.NewWorld(opts...)
	t.Cleanup(func() { _ = w.Close() })
	require.NoError(t, w.AddContact("alice", "Alice"))
	b1, err := w.AddBot("b1")
	require.NoError(t, err)
	b2, err := w.AddBot("b2")
	require.NoError(t, err)
	require.NoError(t, w.AddRoom("team", "the team", "alice", "b1", "b2"))
	return w, b1, b2
}

// next returns the bot's next event, failing after a virtual minute.
func next(t *testing.T, b *mock.Bot) puppet.Event {
	t.Helper()
	select {
	case ev, ok := <-b.Events():
		require.True(t, ok, "events closed")
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event within a minute")
		return puppet.Event{}
	}
}

// up starts a bot and consumes its login.
func up(t *testing.T, b *mock.Bot) {
	t.Helper()
	require.NoError(t, b.Start(t.Context()))
	require.Equal(t, puppet.EventLogin, next(t, b).Kind)
}

// quiet reports, inside a bubble, that no event waits once all is idle.
func quiet(b *mock.Bot) bool {
	synctest.Wait()
	select {
	case <-b.Events():
		return false
	default:
		return true
	}
}

// sayWithin sends with a timeout of d and reports the (virtual) time the
// call took and its error.
func sayWithin(t *testing.T, b *mock.Bot, d time.Duration, to, text string) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	start := time.Now()
	err := b.Say(ctx, to, text)
	return time.Since(start), err
}

// texts renders deliveries as "bot>to:text".
func texts(ds []mock.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Bot+">"+d.To+":"+d.Text)
	}
	return out
}
