package epics_test

import (
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/stretchr/testify/assert"
)

// TestSendMediaWithoutTheCapability: the attempt of a send carrying media
// goes to the puppet's capability, not to Say; a puppet without it answers
// unsupported, a permanent outcome that does not count against the bot.
func TestSendMediaWithoutTheCapability(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, exact(), "b1")
		defer r.stop()
		link := &actions.Media{Kind: actions.MediaURL, URL: &actions.URLLink{URL: "https://wechaty.js.org", Title: "Wechaty"}}
		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "m1", To: "alice", Media: link}))
		synctest.Wait()
		sd := r.sendOf("m1")
		assert.Equal(t, actions.Permanent, sd.Outcome)
		assert.Contains(t, sd.Error, "unsupported")
		assert.Equal(t, link, sd.Media, "the state carries the media")
		assert.Zero(t, says(r.fake("b1")), "no Say for media")
		assert.Zero(t, r.botOf("b1").Failures)
	})
}
