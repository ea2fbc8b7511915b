package devtools

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFrameQueue(t *testing.T) {
	q := newFrameQueue(3)
	_, ok := q.pop()
	assert.False(t, ok, "empty")
	for i := range 3 {
		assert.True(t, q.push([]byte{byte(i)}))
	}
	assert.False(t, q.push([]byte{9}), "full: dropped")
	assert.Equal(t, 3, q.len())
	for i := range 3 {
		select {
		case <-q.ready:
		default:
			t.Fatalf("no signal before frame %d", i)
		}
		b, ok := q.pop()
		assert.True(t, ok)
		assert.Equal(t, []byte{byte(i)}, b, "in order")
	}
	select {
	case <-q.ready:
		t.Fatal("signalled while empty")
	default:
	}

	// A burst's backing array is let go once the queue is empty.
	big := newFrameQueue(1000)
	for range 1000 {
		big.push(nil)
	}
	for range 1000 {
		big.pop()
	}
	assert.Zero(t, cap(big.items))
}
