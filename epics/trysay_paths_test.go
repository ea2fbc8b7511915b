package epics_test

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/stretchr/testify/assert"
)

// tries counts the puppet's TrySay answers.
func tries(f *fakePuppet) int {
	n := 0
	for _, c := range f.Calls() {
		if strings.Contains(c, " try ") {
			n++
		}
	}
	return n
}

// TestTrySayNotForRemoteBotsNorMedia: in a cluster, a send routed to a bot
// that another process drives is forwarded even though this process
// holds a puppet for it that answers at once; a media send never goes
// through TrySay (it is text only), and a text send here does.
func TestTrySayNotForRemoteBotsNorMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fwd := delivering()
		r := newClusterRig(t, fwd)
		defer r.stop()
		r.mu.Lock()
		for _, b := range []string{"b1", "b2"} {
			r.puppets[b] = &trier{r.fakes[b], map[string]error{"hello": nil, "": nil}} // "": a media send has no text
		}
		r.mu.Unlock()
		r.say("s1", "alice") // b1, here
		r.say("s2", "alice") // b2, n2's
		r.dispatch(actions.SendRequested.New(actions.SendPayload{ID: "m1", To: "alice",
			Media: &actions.Media{Kind: actions.MediaURL, URL: &actions.URLLink{URL: "https://example.com"}}}))
		synctest.Wait()
		assert.Equal(t, actions.Delivered, r.sendOf("s1").Outcome)
		assert.Equal(t, actions.Delivered, r.sendOf("s2").Outcome)
		assert.Equal(t, "n2", r.sendOf("s2").Node, "made by the owner")
		assert.Equal(t, []string{"n2 b2 s2"}, fwd.Calls(), "only s2 forwarded")
		assert.Zero(t, tries(r.fake("b2"))+says(r.fake("b2")), "b2's puppet here is never called")
		assert.Equal(t, 1, tries(r.fake("b1")), "s1 tried at once")
		assert.Zero(t, says(r.fake("b1")))
		m1 := r.sendOf("m1")
		assert.Equal(t, actions.Permanent, m1.Outcome, "the fake cannot send links: SendMedia said so")
		assert.Equal(t, "b1", m1.Bot)
	})
}
