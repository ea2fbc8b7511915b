package syncbuf_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Writes from many goroutines, read while they go on, all arrive whole.
func TestConcurrentWritesArriveWhole(t *testing.T) {
	var b syncbuf.Buffer
	assert.Empty(t, b.String())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_, _ = fmt.Fprintf(&b, "%d-%d\n", g, i)
			}
		})
		_ = b.String()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	assert.Len(t, lines, 800)
	var want []string
	for g := range 8 {
		for i := range 100 {
			want = append(want, fmt.Sprintf("%d-%d", g, i))
		}
	}
	slices.Sort(want)
	slices.Sort(lines)
	assert.Equal(t, want, lines)
}
