package hawechaty

import (
	"fmt"
	"hash/maphash"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemberIndexFollowsPutsAndDrops checks the index against a map
// through growth, drops, names added again and rebuilds.
func TestMemberIndexFollowsPutsAndDrops(t *testing.T) {
	x := memberIndex{seed: maphash.MakeSeed()}
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
		tab := x.tab.Load()
		assert.Equal(t, len(want), tab.live)
		assert.LessOrEqual(t, 2*tab.used, len(tab.entries), "at most half used")
	}
	x.reset()
	assert.Nil(t, x.get("bot-1"))
}

// TestMemberIndexReadsWhileWritten reads names that stay in the index
// while others are added and dropped (go test -race checks the rest).
func TestMemberIndexReadsWhileWritten(t *testing.T) {
	x := memberIndex{seed: maphash.MakeSeed()}
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
