package reducers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bot round robin resumes at is removed, the last in order: a removal
// that compacts the tables (or drops their trailing hole) must leave the
// cursor past the last bot, as a removal that leaves a hole does, so that
// a bot added before the next send is the next one, not the bot that has
// just sent.
func TestReview5RoundRobinRemovedLastThenAdded(t *testing.T) {
	for _, compact := range []bool{false, true} {
		w := newWorld(t, exact())
		upBots(w, "a", "b", "c")
		if compact {
			w.do(removed("a")) // a hole; removing c then leaves more holes than bots
		}
		last := w.deliver("s1", "zed")
		if !compact {
			require.Equal(t, "a", last)
			last = w.deliver("s2", "zed")
		}
		require.Equal(t, "b", last, "c is next")
		w.do(removed("c")) // either way a small table drops its trailing hole
		upBots(w, "d")
		assert.Equal(t, "d", w.deliver("s3", "zed"), "compact %v: b has just sent, d is after it", compact)
	}
}
