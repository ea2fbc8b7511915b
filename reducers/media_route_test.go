package reducers_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

func mediaRequested(id, to string, kind actions.MediaKind) actions.Action {
	return actions.SendRequested.New(actions.SendPayload{ID: id, To: to, Media: &actions.Media{Kind: kind, URL: &actions.URLLink{URL: "https://example.com"}}})
}

// A send of a media kind goes only to bots whose puppets can send that
// kind; when no bot of the pool can, it ends at once as unsupported, a
// permanent outcome, without an attempt.
func TestMediaRoutesByCapability(t *testing.T) {
	w := newWorld(t, exact())
	w.do(actions.BotAdded.New(actions.BotAddedPayload{Bot: "b1", Puppet: "mock", NoMedia: []actions.MediaKind{actions.MediaURL, actions.MediaFile}}))
	w.do(login("b1"))
	upBots(w, "b2")
	for _, id := range []string{"m1", "m2", "m3"} {
		w.do(mediaRequested(id, "alice", actions.MediaURL))
		assert.Equal(t, "b2", w.send(id).Bot, id)
		w.do(result(id, "b2", 1, actions.Delivered))
		w.do(collected(id))
	}
	assert.ElementsMatch(t, []string{"b1", "b2"}, []string{w.deliver("t1", "alice"), w.deliver("t2", "alice")}, "text: both bots")

	w.do(logout("b2"))
	w.do(mediaRequested("m4", "alice", actions.MediaURL))
	assert.Equal(t, actions.NoBot, w.send("m4").Outcome, "a bot that can send it exists, but is not available")

	w.do(removed("b2"))
	w.do(mediaRequested("m5", "alice", actions.MediaURL))
	sd := w.send("m5")
	assert.Equal(t, actions.Permanent, sd.Outcome)
	assert.Zero(t, sd.Attempt)
	assert.Contains(t, sd.Error, "unsupported: no bot of the pool can send url")
}

func TestMediaKinds(t *testing.T) {
	ks := reducers.KindsOf([]actions.MediaKind{actions.MediaURL, actions.MediaImage, actions.MediaURL, actions.MediaText})
	assert.Equal(t, reducers.MediaKinds("image,url"), ks)
	assert.True(t, ks.Has(actions.MediaURL))
	assert.True(t, ks.Has(actions.MediaImage))
	assert.False(t, ks.Has(actions.MediaFile))
	assert.False(t, ks.Has(actions.MediaText))
	assert.False(t, reducers.MediaKinds("").Has(actions.MediaText))
	assert.Equal(t, reducers.MediaKinds(""), reducers.KindsOf(nil))
}
