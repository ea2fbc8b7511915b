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
		b.ReportAllocs()
		for b.Loop() {
			if same(x, y) {
				b.Fatal("same")
			}
		}
	})
	b.Run("int", func(b *testing.B) {
		same := sameState[int]()
		x, y := 1000, 1001
		b.ReportAllocs()
		for b.Loop() {
			if same(x, y) {
				b.Fatal("same")
			}
		}
	})
}
