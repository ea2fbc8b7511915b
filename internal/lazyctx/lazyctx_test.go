package lazyctx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type key struct{}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestCancelBeforeAndAfterDone(t *testing.T) {
	c := New(context.Background(), nil)
	if c.Err() != nil {
		t.Fatalf("fresh Err = %v", c.Err())
	}
	c.Cancel()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err after Cancel = %v", c.Err())
	}
	if !closed(c.Done()) {
		t.Fatal("Done made after Cancel is not closed")
	}

	c = New(context.Background(), nil)
	done := c.Done()
	if closed(done) {
		t.Fatal("Done closed before Cancel")
	}
	c.Cancel()
	if !closed(done) || !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("after Cancel: closed %v, Err %v", closed(done), c.Err())
	}
	c.Cancel() // twice is fine
}

func TestParentsEndIt(t *testing.T) {
	for _, which := range []string{"parent", "also"} {
		t.Run(which, func(t *testing.T) {
			p, pcancel := context.WithCancel(context.Background())
			a, acancel := context.WithCancel(context.Background())
			defer pcancel()
			defer acancel()
			c := New(p, a)
			done := c.Done()
			if which == "parent" {
				pcancel()
			} else {
				acancel()
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Done not closed when a parent ended")
			}
			if !errors.Is(c.Err(), context.Canceled) {
				t.Fatalf("Err = %v", c.Err())
			}
		})
	}
}

func TestErrSeesParentWithoutDone(t *testing.T) {
	p, cancel := context.WithTimeout(context.Background(), time.Hour)
	c := New(p, nil)
	cancel()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want the parent's", c.Err())
	}
	if !closed(c.Done()) {
		t.Fatal("Done not closed although Err is set")
	}
}

func TestDoneAfterParentEnded(t *testing.T) {
	p, cancel := context.WithCancel(context.Background())
	cancel()
	c := New(p, nil)
	if !closed(c.Done()) || !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Done of a context whose parent ended: closed %v, Err %v", closed(c.Done()), c.Err())
	}
}

func TestValueDeadlineCause(t *testing.T) {
	soon := time.Now().Add(time.Minute)
	p, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), soon.Add(time.Hour))
	defer cancel()
	a, acancel := context.WithDeadline(context.Background(), soon)
	defer acancel()
	c := New(p, a)
	if got := c.Value(key{}); got != "v" {
		t.Fatalf("Value = %v", got)
	}
	if d, ok := c.Deadline(); !ok || !d.Equal(soon) {
		t.Fatalf("Deadline = %v %v, want the earlier %v", d, ok, soon)
	}
	c.Cancel()
	if err := context.Cause(c); !errors.Is(err, context.Canceled) {
		t.Fatalf("Cause = %v, want Canceled (the parent is still running)", err)
	}
}

func TestChildOfCtx(t *testing.T) {
	c := New(context.Background(), nil)
	child, cancel := context.WithCancel(c)
	defer cancel()
	c.Cancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a child of the context was not cancelled with it")
	}
}

func TestConcurrentUse(t *testing.T) {
	p, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	for range 100 {
		c := New(p, nil)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_ = c.Done()
				_ = c.Err()
			})
		}
		wg.Go(c.Cancel)
		wg.Wait()
		if !closed(c.Done()) {
			t.Fatal("not done after Cancel")
		}
	}
}

func BenchmarkNewCancel(b *testing.B) {
	p, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("lazyctx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := New(p, nil)
			_ = c.Err()
			c.Cancel()
		}
	})
	b.Run("context.WithCancel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, cancel := context.WithCancel(p)
			_ = c.Err()
			cancel()
		}
	})
}

func TestAfterFunc(t *testing.T) {
	c := New(context.Background(), nil)
	ran := make(chan struct{})
	stopped := c.AfterFunc(func() { t.Error("a stopped function ran") })
	assert := func(ok bool, msg string) {
		t.Helper()
		if !ok {
			t.Fatal(msg)
		}
	}
	assert(stopped(), "stop before the end keeps the function from running")
	assert(!stopped(), "a second stop reports false")
	c.AfterFunc(func() { close(ran) })
	c.Cancel()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc's function did not run when the context ended")
	}
	late := make(chan struct{})
	stop := c.AfterFunc(func() { close(late) })
	select {
	case <-late:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc on an ended context did not run its function")
	}
	assert(!stop(), "stop after the function started reports false")
}

func TestChildFollowsWithoutItsOwnGoroutine(t *testing.T) {
	p, pcancel := context.WithCancel(context.Background())
	c := New(p, nil)
	child, cancel := context.WithTimeout(c, time.Hour)
	defer cancel()
	pcancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a child of the context did not end with its parent's parent")
	}
	if !errors.Is(context.Cause(child), context.Canceled) {
		t.Fatalf("Cause = %v", context.Cause(child))
	}
}
