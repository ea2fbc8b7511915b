package fifo_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPushTakeKeepsOrder(t *testing.T) {
	q := fifo.New[int]()
	assert.Nil(t, q.Take())
	for i := range 5 {
		q.Push(i)
	}
	<-q.Signal()
	assert.Equal(t, []int{0, 1, 2, 3, 4}, drain(q))
	q.Push(5)
	q.Push(6)
	assert.Equal(t, []int{5, 6}, drain(q))
	q.Push(7)
	q.Drop()
	assert.Nil(t, q.Take())
}

func TestPumpDeliversEverythingThenStops(t *testing.T) {
	q := fifo.New[int]()
	out := make(chan int)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() { fifo.Pump(q, out, done); close(stopped) }()
	for i := range 1000 {
		q.Push(i) // never blocks, whatever the reader does
	}
	for i := range 1000 {
		assert.Equal(t, i, <-out)
	}
	close(done)
	<-stopped
}

// drain takes until the queue is empty.
func drain[T any](q *fifo.Queue[T]) []T {
	var out []T
	for b := q.Take(); b != nil; b = q.Take() {
		out = append(out, b...)
	}
	return out
}

func TestOrderAcrossBlocks(t *testing.T) {
	q := fifo.New[int]()
	next, want := 0, 0
	// Push and take in uneven steps that cross block boundaries.
	for _, step := range []struct{ push, take int }{{300, 1}, {1000, 700}, {5, 600}, {256, 10_000}, {1, 1}} {
		for range step.push {
			q.Push(next)
			next++
		}
		for taken := 0; taken < step.take; {
			b := q.Take()
			if b == nil {
				break
			}
			for _, v := range b {
				require.Equal(t, want, v)
				want++
			}
			taken += len(b)
		}
	}
	for _, v := range drain(q) {
		require.Equal(t, want, v)
		want++
	}
	assert.Equal(t, next, want, "everything pushed was taken once")
}

func TestDropKeepsTheTakenSliceAndDiscardsTheRest(t *testing.T) {
	q := fifo.New[int]()
	for i := range 600 {
		q.Push(i)
	}
	taken := q.Take()
	require.Len(t, taken, 256)
	q.Drop()
	for i, v := range taken {
		require.Equal(t, i, v, "the consumer's slice is untouched")
	}
	assert.Nil(t, q.Take(), "the rest was dropped")
	q.Push(7)
	assert.Equal(t, []int{7}, drain(q))
}

// TestConcurrentPushAndTake checks, under -race, that a consumer reading
// its slice while the producer pushes into the same block sees every item
// once and in order.
func TestConcurrentPushAndTake(t *testing.T) {
	const n = 100_000
	q := fifo.New[int]()
	done := make(chan []int)
	go func() {
		got := make([]int, 0, n)
		for len(got) < n {
			b := q.Take()
			if b == nil {
				<-q.Signal()
				continue
			}
			got = append(got, b...)
		}
		done <- got
	}()
	for i := range n {
		q.Push(i)
	}
	got := <-done
	for i, v := range got {
		require.Equal(t, i, v)
	}
}
