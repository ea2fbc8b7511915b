package hawechaty_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allMedia = []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact}

// deliveriesOf counts the world's deliveries of media like m at to.
func deliveriesOf(w *mock.World, to string, m puppet.Media) (n int, bots []string) {
	for _, d := range w.DeliveredMedia() {
		if d.To == to && puppettest.SameMedia(m, *d.Media) {
			n++
			bots = append(bots, d.Bot)
		}
	}
	return n, bots
}

// TestSendMediaThroughThePool: every kind of media goes out through the
// pool's routing (round robin over two bots), to a contact and a room,
// each delivered once, and the send is in the state with its media.
func TestSendMediaThroughThePool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, b := carolAndTwoBots(t)
		require.NoError(t, world.AddRoom("room1", "team", "bot-a", "bot-b", "carol"))
		pool := startPool(t, nil, a, b)
		defer pool.Stop(context.Background())
		changes := pool.Store().Subscribe(1 << 10)

		var bots []string
		for _, kind := range allMedia {
			m := puppettest.SampleMedia(kind, "carol")
			for _, to := range []string{"carol", "room1"} {
				r, err := pool.Send(t.Context(), to, m)
				require.NoError(t, err, "%s to %s", kind, to)
				synctest.Wait()
				n, by := deliveriesOf(world, to, m)
				assert.Equal(t, 1, n, "%s to %s delivered once", kind, to)
				assert.Equal(t, []string{r.Bot}, by)
				bots = append(bots, r.Bot)
			}
		}
		assert.Contains(t, bots, "bot-a")
		assert.Contains(t, bots, "bot-b")

		var sent []actions.Media
		for len(changes.C()) > 0 {
			c := <-changes.C()
			if p, ok := actions.SendRequested.Match(c.Action); ok && p.Media != nil {
				sent = append(sent, *p.Media)
			}
		}
		require.Len(t, sent, 2*len(allMedia))
		assert.Equal(t, puppet.MediaImage, sent[0].Kind)
		assert.Equal(t, "pixel.png", sent[0].File.Name)
	})
}

// TestSendMediaFailsOverOnlyWhenNotSent: a bot whose sends certainly fail
// passes the media to the other bot (delivered once); a bot that may have
// sent it (hung) is not followed by another attempt.
func TestSendMediaFailsOverOnlyWhenNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, b := carolAndTwoBots(t)
		pool := startPool(t, nil, a, b)
		defer pool.Stop(context.Background())
		m := puppettest.SampleMedia(puppet.MediaImage, "")

		a.FailSends(true)
		r1, err := pool.Send(t.Context(), "carol", m)
		require.NoError(t, err)
		r2, err := pool.Send(t.Context(), "carol", m)
		require.NoError(t, err)
		assert.Equal(t, "bot-b", r1.Bot)
		assert.Equal(t, "bot-b", r2.Bot)
		assert.Equal(t, 2, r1.Attempts, "round robin tried bot-a first, then failed over")
		n, _ := deliveriesOf(world, "carol", m)
		assert.Equal(t, 2, n)
		a.FailSends(false)

		b.Hang(true) // delivers, then never answers
		a.Hang(true)
		_, err = pool.Send(t.Context(), "carol", m)
		var se *hawechaty.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, actions.Unknown, se.Outcome)
		assert.Equal(t, 1, se.Attempts, "an unknown outcome is never sent again")
		synctest.Wait()
		n, _ = deliveriesOf(world, "carol", m)
		assert.Equal(t, 3, n)
	})
}

// textOnly is a puppet with no media capability.
type textOnly struct{ puppet.Puppet }

// TestSendMediaUnsupportedAndBad: a bot whose puppet lacks the capability
// answers unsupported, a permanent outcome; media that cannot be sent is
// refused before anything is sent.
func TestSendMediaUnsupportedAndBad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, _ := carolAndTwoBots(t)
		pool := startPool(t, nil, textOnly{a})
		defer pool.Stop(context.Background())

		_, err := pool.Send(t.Context(), "carol", puppettest.SampleMedia(puppet.MediaURL, ""))
		assert.ErrorIs(t, err, puppet.ErrPermanent)
		assert.ErrorContains(t, err, "unsupported")
		var se *hawechaty.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, actions.Permanent, se.Outcome)

		_, err = pool.Send(t.Context(), "carol", puppet.Media{Kind: puppet.MediaFile, File: &puppet.FileBox{Name: "x"}})
		assert.ErrorIs(t, err, puppet.ErrBadMedia)
		_, err = pool.Send(t.Context(), "carol", puppet.Media{Kind: "hologram"})
		assert.ErrorIs(t, err, puppet.ErrBadMedia)
		_, err = pool.Say(t.Context(), "carol", "text still works")
		require.NoError(t, err)
		assert.Empty(t, world.DeliveredMedia())
	})
}

// TestSendMediaRoutesToBotsThatCanSendIt: media goes only through the
// bots whose puppets can send its kind, never to a bot that would answer
// "unsupported"; text still goes round robin over both.
func TestSendMediaRoutesToBotsThatCanSendIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, b := carolAndTwoBots(t)
		pool := startPool(t, nil, textOnly{a}, b)
		defer pool.Stop(context.Background())
		bot, ok := pool.State().Bots.Get("bot-a")
		require.True(t, ok)
		assert.Equal(t, reducers.MediaKinds("contact,file,image,url"), bot.NoMedia)

		for _, kind := range allMedia {
			for range 2 {
				r, err := pool.Send(t.Context(), "carol", puppettest.SampleMedia(kind, "carol"))
				require.NoError(t, err, kind)
				assert.Equal(t, "bot-b", r.Bot, kind)
				assert.Equal(t, 1, r.Attempts, "%s: no attempt on the bot that cannot send it", kind)
			}
		}
		synctest.Wait()
		assert.Len(t, world.DeliveredMedia(), 2*len(allMedia))
		var bots []string
		for range 4 {
			r, err := pool.Say(t.Context(), "carol", "hi")
			require.NoError(t, err)
			bots = append(bots, r.Bot)
		}
		assert.ElementsMatch(t, []string{"bot-a", "bot-a", "bot-b", "bot-b"}, bots)
	})
}

// TestInboundMedia: media a contact sends reaches the application once
// (two bots see it in the room), with its kind, and its payload is fetched
// through the bot that received it.
func TestInboundMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, a, b := carolAndTwoBots(t)
		require.NoError(t, world.AddRoom("room1", "team", "bot-a", "bot-b", "carol"))
		pool := startPool(t, nil, a, b)
		defer pool.Stop(context.Background())

		for _, kind := range allMedia {
			want := puppettest.SampleMedia(kind, "carol")
			_, err := world.PostMedia("carol", "room1", want)
			require.NoError(t, err)
		}
		synctest.Wait()
		var got []hawechaty.Message
		for len(pool.Messages()) > 0 {
			got = append(got, <-pool.Messages())
		}
		require.Len(t, got, len(allMedia), "each once")
		ctx := t.Context()
		for i, m := range got {
			assert.Equal(t, allMedia[i], m.Kind)
			assert.Equal(t, "room1", m.Room)
		}
		img, err := got[0].File(ctx)
		require.NoError(t, err)
		assert.Equal(t, *puppettest.SampleMedia(puppet.MediaImage, "").File, img)
		file, err := got[1].File(ctx)
		require.NoError(t, err)
		assert.Equal(t, "notes.txt", file.Name)
		link, err := got[2].URL(ctx)
		require.NoError(t, err)
		assert.Equal(t, "https://wechaty.js.org/", link.URL)
		card, err := got[3].ContactCard(ctx)
		require.NoError(t, err)
		assert.Equal(t, "carol", card)

		_, err = got[0].URL(ctx)
		assert.ErrorContains(t, err, "is image, not [url]")
		r, err := got[0].Reply(ctx, "nice picture")
		require.NoError(t, err)
		assert.NotEmpty(t, r.Bot)
	})
}
