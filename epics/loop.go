package epics

import (
	"context"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// machine is the shape of the stateful epics: it reacts to actions and to
// its own per-bot timers, and emits actions. Everything runs on one
// goroutine, so a machine needs no locks.
type machine interface {
	onAction(a actions.Action, now time.Time, out *emitter)
	onTimer(bot string, now time.Time, out *emitter)
}

// starter is a machine that acts once when its epic starts, before the
// first action: the heartbeat watches the bots already in the pool.
type starter interface {
	onStart(now time.Time, out *emitter)
}

// emitter hands actions to the epic's output and timers to the loop.
type emitter struct {
	ctx    context.Context
	next   chan<- rxgo.Item
	fired  chan firing
	posted chan func(*emitter)
	timers map[string]timer
	armed  uint64 // timers armed so far, to tell each from the next
	wg     *sync.WaitGroup
}

// timer is a bot's armed timer; firing names it by its number, so that a
// timer that fired while the loop was busy, and was moved or cancelled
// before the loop read it, is recognized as stale.
type timer struct {
	t  *time.Timer
	id uint64
}

type firing struct {
	bot string
	id  uint64
}

// due reports whether f is the bot's armed timer, and disarms it if so.
func (e *emitter) due(f firing) bool {
	if cur, ok := e.timers[f.bot]; ok && cur.id == f.id {
		delete(e.timers, f.bot)
		return true
	}
	return false
}

func (e *emitter) emit(a actions.Action) {
	select {
	case e.next <- rxgo.Of(a):
	case <-e.ctx.Done():
	}
}

// at arms bot's timer to fire after d, replacing any earlier one.
func (e *emitter) at(bot string, d time.Duration) {
	if cur, ok := e.timers[bot]; ok {
		cur.t.Stop()
	}
	e.armed++
	f := firing{bot: bot, id: e.armed}
	e.timers[bot] = timer{id: f.id, t: time.AfterFunc(d, func() {
		select {
		case e.fired <- f:
		case <-e.ctx.Done():
		}
	})}
}

// cancel disarms bot's timer.
func (e *emitter) cancel(bot string) {
	if cur, ok := e.timers[bot]; ok {
		cur.t.Stop()
		delete(e.timers, bot)
	}
}

// post hands f to the epic's loop, from an effect goroutine: what f emits
// is ordered with everything else the epic emits.
func (e *emitter) post(f func(*emitter)) {
	select {
	case e.posted <- f:
	case <-e.ctx.Done():
	}
}

// effect runs f on its own goroutine; the epic waits for it on stop.
func (e *emitter) effect(f func(ctx context.Context)) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f(e.ctx)
	}()
}

// run turns a machine into an epic output.
func run(ctx context.Context, in rxgo.Observable, m machine) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(pctx context.Context, next chan<- rxgo.Item) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		out := &emitter{ctx: ctx, next: next, fired: make(chan firing), posted: make(chan func(*emitter)), timers: map[string]timer{}, wg: &wg}
		defer func() {
			cancel()
			for _, cur := range out.timers {
				cur.t.Stop()
			}
			wg.Wait()
		}()
		items := in.Observe(rxgo.WithContext(ctx))
		if s, ok := m.(starter); ok {
			s.onStart(time.Now(), out)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-pctx.Done():
				return
			case it, ok := <-items:
				if !ok {
					return
				}
				if it.E != nil {
					out.emitErr(it.E)
					return
				}
				if a, isAction := it.V.(actions.Action); isAction {
					m.onAction(a, time.Now(), out)
				}
			case f := <-out.fired:
				if out.due(f) {
					m.onTimer(f.bot, time.Now(), out)
				}
			case f := <-out.posted:
				f(out)
			}
		}
	}}, rxgo.WithContext(ctx))
}

func (e *emitter) emitErr(err error) {
	select {
	case e.next <- rxgo.Error(err):
	case <-e.ctx.Done():
	}
}

// botOf returns the bot an action is about, for the actions that have one.
func botOf(a actions.Action) string {
	switch p := a.Payload.(type) {
	case actions.BotPayload:
		return p.Bot
	case actions.BotAddedPayload:
		return p.Bot
	case actions.LoginPayload:
		return p.Bot
	case actions.ReasonPayload:
		return p.Bot
	case actions.MessagePayload:
		return p.Bot
	case actions.DingPayload:
		return p.Bot
	case actions.ResetPayload:
		return p.Bot
	}
	return ""
}
