package hawechaty

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemberIndexFollowsPutsAndDrops checks the index against a map
// through growth, drops and names added again.
func TestMemberIndexFollowsPutsAndDrops(t *testing.T) {
	var x memberIndex
	want := map[string]*member{}
	assert.Nil(t, x.get("bot-0"), "an empty index")
	x.drop("bot-0") // nothing to drop: no effect
	for round := range 3 {
		for i := range 1000 {
			name := fmt.Sprintf("bot-%d", i)
			if want[name] != nil {
				continue
			}
			m := &member{name: name}
			x.put(m)
			want[name] = m
		}
		for i := round; i < 1000; i += 2 + round {
			name := fmt.Sprintf("bot-%d", i)
			x.drop(name)
			delete(want, name)
		}
		for i := range 1000 {
			name := fmt.Sprintf("bot-%d", i)
			require.Same(t, want[name], x.get(name), "round %d, %s", round, name)
		}
		assert.Nil(t, x.get("bot-x"))
		assert.Equal(t, len(want), x.live)
	}
	x.reset()
	assert.Nil(t, x.get("bot-1"))
}

// TestMemberIndexReadsWhileWritten reads names that stay in the index
// while others are added and dropped (go test -race checks the rest).
func TestMemberIndexReadsWhileWritten(t *testing.T) {
	var x memberIndex
	stay := &member{name: "stay"}
	x.put(stay)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	misses := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if x.get("stay") != stay {
				misses++
			}
		}
	})
	for i := range 2000 {
		name := fmt.Sprintf("churn-%d", i%300)
		if x.get(name) != nil {
			x.drop(name)
		} else {
			x.put(&member{name: name})
		}
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, misses, "a member that stays is always found")
}

// TestMemberIndexLearnsPositions: a member learned at a position is
// found there by its name only, and not once dropped; a learn after the
// drop, or at a position far past the members, is ignored.
func TestMemberIndexLearnsPositions(t *testing.T) {
	var x memberIndex
	a, b := &member{name: "a"}, &member{name: "b"}
	x.put(a)
	x.put(b)
	assert.Nil(t, x.getAt("a", 0), "nothing learned yet")
	x.learn(0, a)
	x.learn(50, b)
	x.learn(1000, b)
	assert.Same(t, a, x.getAt("a", 0))
	assert.Same(t, b, x.getAt("b", 50))
	assert.Nil(t, x.getAt("b", 0), "a hint is checked by name")
	assert.Nil(t, x.getAt("a", -1))
	assert.Nil(t, x.getAt("b", 1000), "past twice the members: not learned")
	x.learn(7, a)
	assert.Same(t, a, x.getAt("a", 7), "a member may be at two positions")
	x.drop("a")
	assert.Nil(t, x.getAt("a", 0))
	assert.Nil(t, x.getAt("a", 7))
	x.learn(0, a)
	assert.Nil(t, x.getAt("a", 0), "a dropped member is not learned")
	a2 := &member{name: "a"}
	x.put(a2)
	x.learn(0, a2)
	assert.Same(t, a2, x.getAt("a", 0))
	x.reset()
	assert.Nil(t, x.getAt("b", 50))
}
