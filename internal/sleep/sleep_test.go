package sleep_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/internal/sleep"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !sleep.For(t.Context(), time.Minute) {
			t.Fatal("a live context: want true")
		}
		if got := time.Since(start); got != time.Minute {
			t.Fatalf("waited %v, want 1m", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start = time.Now()
		if sleep.For(ctx, time.Hour) {
			t.Fatal("a context that ends first: want false")
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("returned after %v, want when the context ended (1s)", got)
		}
		if sleep.For(ctx, 0) {
			t.Fatal("no wait on an ended context: want false")
		}
		if !sleep.For(t.Context(), -time.Second) {
			t.Fatal("no wait on a live context: want true")
		}
	})
}
