package recv_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/internal/recv"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNextReturnsWhatIsSent(t *testing.T) {
	ch := make(chan int, 2)
	ch <- 1
	ch <- 0
	for _, want := range []int{1, 0} {
		v, ok := recv.Next(t.Context(), t.Context(), ch)
		assert.True(t, ok)
		assert.Equal(t, want, v)
	}
}

func TestNextEnds(t *testing.T) {
	cases := map[string]func(ch chan int, ctx, pctx context.CancelFunc){
		"channel closed": func(ch chan int, _, _ context.CancelFunc) { close(ch) },
		"ctx ends":       func(_ chan int, ctx, _ context.CancelFunc) { ctx() },
		"pctx ends":      func(_ chan int, _, pctx context.CancelFunc) { pctx() },
	}
	for name, end := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ch := make(chan int)
				ctx, cancel := context.WithCancel(t.Context())
				pctx, pcancel := context.WithCancel(t.Context())
				defer cancel()
				defer pcancel()
				type result struct {
					v  int
					ok bool
				}
				got := make(chan result, 1)
				go func() {
					v, ok := recv.Next(ctx, pctx, ch)
					got <- result{v, ok}
				}()
				synctest.Wait()
				select {
				case r := <-got:
					t.Fatalf("Next returned %+v before anything happened", r)
				default:
				}
				end(ch, cancel, pcancel)
				assert.Equal(t, result{0, false}, <-got)
			})
		})
	}
}

func TestNextWaitsForAValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan string)
		got := make(chan string, 1)
		go func() {
			v, ok := recv.Next(t.Context(), t.Context(), ch)
			assert.True(t, ok)
			got <- v
		}()
		synctest.Wait()
		assert.Empty(t, got, "Next returned before a value was sent")
		ch <- "a"
		assert.Equal(t, "a", <-got)
	})
}

// BenchmarkNext holds Next against the select it replaces, in the same
// run: an epic's producer pays it on every action.
func BenchmarkNext(b *testing.B) {
	ctx, pctx := b.Context(), b.Context()
	ch := make(chan int, 1)
	b.Run("select", func(b *testing.B) {
		for i := range b.N {
			ch <- i
			select {
			case v := <-ch:
				_ = v
			case <-ctx.Done():
			case <-pctx.Done():
			}
		}
	})
	b.Run("Next", func(b *testing.B) {
		for i := range b.N {
			ch <- i
			_, _ = recv.Next(ctx, pctx, ch)
		}
	})
}
