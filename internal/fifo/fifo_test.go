package fifo_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/stretchr/testify/assert"
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
	assert.Equal(t, []int{0, 1, 2, 3, 4}, q.Take())
	q.Push(5)
	q.Push(6)
	assert.Equal(t, []int{5, 6}, q.Take())
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
