package store

import (
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
)

func BenchmarkSameState(b *testing.B) {
	b.Run("Pool", func(b *testing.B) {
		same := sameState[reducers.Pool]()
		var x, y reducers.Pool
		y.Cursor = 1
		bx, by := any(x), any(y)
		b.ReportAllocs()
		for b.Loop() {
			if same(bx, by) {
				b.Fatal("same")
			}
		}
	})
	b.Run("int", func(b *testing.B) {
		same := sameState[int]()
		bx, by := any(1000), any(1001)
		b.ReportAllocs()
		for b.Loop() {
			if same(bx, by) {
				b.Fatal("same")
			}
		}
	})
}
