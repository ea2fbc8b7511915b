package store_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wide is a state of many words, as a pool's state is: committing it
// must not box it on the heap, and readers must never see it torn.
type wide struct {
	N    int
	Copy [31]int // every word holds N
	Tag  *int
}

func wideReducer(s wide, a actions.Action) wide {
	if !add.Is(a) {
		return s
	}
	s.N++
	for i := range s.Copy {
		s.Copy[i] = s.N
	}
	return s
}

// TestCommitAllocatesNoState: a dispatch of a bare action through a
// store with no subscribers, epics or middleware allocates nothing, the
// state's commit included.
func TestCommitAllocatesNoState(t *testing.T) {
	s, err := store.New(wideReducer, wide{})
	require.NoError(t, err)
	a := add.New(1) // the payload's box is the action's, made once here
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Dispatch(a); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "allocations per dispatch")
	assert.Equal(t, 101, s.State().N, "AllocsPerRun runs once more than asked")
}

// TestStateIsNeverTorn: State, read while another goroutine commits, is
// always one whole committed state; and a read after Dispatch returns
// sees that dispatch.
func TestStateIsNeverTorn(t *testing.T) {
	s, err := store.New(wideReducer, wide{})
	require.NoError(t, err)
	stop := readInLoops(func() string {
		st := s.State()
		for _, v := range st.Copy {
			if v != st.N {
				return fmt.Sprintf("N %d, copies %v", st.N, st.Copy)
			}
		}
		return ""
	})
	for i := range 2000 {
		require.NoError(t, s.Dispatch(add.New(1)))
		require.Equal(t, i+1, s.State().N, "a read after Dispatch returned misses it")
	}
	assert.Empty(t, stop(), "a torn state")
}

// readInLoops runs check on two goroutines, each in a loop, until the
// returned stop is called; stop waits for them and returns the first
// failure a check reported ("" for none). A check that fails ends its
// loop.
func readInLoops(check func() string) (stop func() string) {
	done := make(chan struct{})
	var bad atomic.Value
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if msg := check(); msg != "" {
					bad.CompareAndSwap(nil, msg)
					return
				}
			}
		})
	}
	return func() string {
		close(done)
		wg.Wait()
		msg, _ := bad.Load().(string)
		return msg
	}
}
