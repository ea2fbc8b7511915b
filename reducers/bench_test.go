package reducers_test

import (
	"fmt"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
)

type benchBot struct {
	Available bool
	LastSeen  int64
	Sent      int
}

// BenchmarkTableUpdate changes one entry of tables of growing size: the
// allocations per update stay the same and the time grows only with the
// root node (one pointer per 1024 entries).
func BenchmarkTableUpdate(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			var tb reducers.Table[*benchBot]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("bot-%d", i)
				tb = tb.Set(keys[i], &benchBot{})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				tb = tb.Update(keys[i%n], func(v *benchBot) *benchBot {
					c := *v
					c.LastSeen = int64(i)
					return &c
				})
			}
		})
	}
}
