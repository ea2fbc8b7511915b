package hawechaty

import (
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoorbellRingsEachSayItsOwnEnd covers the doorbell's paths: a Say
// in its slot, one whose slot is taken (it waits in the map), sends
// whose ID is not a Say's or no Say waits for, and a ring for a Say that
// has gone.
func TestDoorbellRingsEachSayItsOwnEnd(t *testing.T) {
	d := doorbell{waiters: map[string]*waiter{}}
	first := d.add("say-3", 3)
	second := d.add("say-259", 259) // 259 % 256 == 3: the map
	require.NotSame(t, first, second)
	waiting, _ := d.count()
	assert.Equal(t, 2, waiting)

	for _, id := range []string{"say-259", "say-3", "app-3", "say-4", "say-x", "say-", "app-8"} {
		d.ring(id, &reducers.End{Send: &reducers.Send{ID: id}})
	}
	for w, id := range map[*waiter]string{first: "say-3", second: "say-259"} {
		require.NotNil(t, w.end.Load(), id)
		assert.Equal(t, id, w.end.Load().ID)
		assert.Len(t, w.ch, 1, id)
	}

	d.remove("say-3", 3, first)
	d.ring("say-3", &reducers.End{Send: &reducers.Send{ID: "say-3"}})
	assert.Nil(t, first.end.Load(), "rung after it was removed")
	assert.Empty(t, first.ch)
	again := d.add("say-515", 515) // the slot is free again
	assert.Same(t, first, again)

	d.remove("say-259", 259, second)
	d.remove("say-515", 515, again)
	waiting, spare := d.count()
	assert.Zero(t, waiting)
	assert.Equal(t, 1, spare, "the map's waiter is kept")
	assert.Zero(t, d.mapped.Load())
}

func TestSayNumber(t *testing.T) {
	for id, want := range map[string]uint64{"say-0": 0, "say-42": 42, "say-18446744073709551615": 1<<64 - 1} {
		n, ok := sayNumber(id)
		assert.True(t, ok, id)
		assert.Equal(t, want, n, id)
	}
	for _, id := range []string{"", "say-", "say", "Say-1", "say-1a", "say--1", "send-1"} {
		_, ok := sayNumber(id)
		assert.False(t, ok, id)
	}
}
