package epics

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
)

var rearm = actions.Define[actions.Empty]("test/REARM")

// rearmer arms a timer of 1 s on Init, and on REARM waits for release
// before it moves the timer to 10 s from then; it records when it fires.
type rearmer struct {
	release chan struct{}
	fired   []time.Time
}

func (m *rearmer) onAction(a actions.Action, _ time.Time, out *emitter) {
	switch a.Type {
	case actions.Init.Type():
		out.at("b", time.Second)
	case rearm.Type():
		<-m.release // the 1 s timer fires meanwhile, while the loop is busy
		out.at("b", 10*time.Second)
	}
}

func (m *rearmer) onTimer(_ string, now time.Time, _ *emitter) { m.fired = append(m.fired, now) }

// A timer that fired while its machine was busy, and was moved before the
// machine read it, does not reach the machine: only the moved one does.
func TestMovedTimerDoesNotFireStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		in := make(chan rxgo.Item, 2)
		m := &rearmer{release: make(chan struct{})}
		out := run(ctx, rxgo.FromChannel(in), m).Observe(rxgo.WithContext(ctx))
		go func() {
			for range out {
			}
		}()
		t0 := time.Now()
		in <- rxgo.Of(actions.Init.New(actions.Empty{}))
		in <- rxgo.Of(rearm.New(actions.Empty{}))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		close(m.release)
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		synctest.Wait()
		var after []time.Duration
		for _, at := range m.fired {
			after = append(after, at.Sub(t0))
		}
		assert.Equal(t, []time.Duration{12 * time.Second}, after, "fired only 10 s after the move")
	})
}
