package epics

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Reset brings failed bots back. On actions.BotFailed it waits
// Backoff.Delay(1), then resets the puppet (Stop, then Start) and emits
// actions.ResetStarted; a reset that returns an error, or that takes
// longer than SendTimeout, emits actions.ResetFailed, one that returns in
// time emits actions.ResetDone. Attempts go on, each after the next
// backoff delay, until the bot shows it works again (Login, or Dong while
// logged in), which also resets the backoff, or until it is removed.
//
// A Scan pauses the resets: the puppet is alive and waits for a QR scan,
// and restarting it would only restart the login. The Heartbeat epic fails
// the bot again if no Login follows within ScanTimeout, and the resets
// start over. A BotFailed about a bot that is not in the pool (a removed
// bot's late failure) is ignored, and BotAdded clears what a bot of the
// same name left behind.
func Reset(cfg Config, deps Deps) store.Epic[reducers.Pool] {
	cfg = cfg.Defaults()
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[reducers.Pool]) rxgo.Observable {
		return run(ctx, in, &resetter{cfg: cfg, deps: deps, state: state, bots: map[string]*resetState{}})
	}
}

type resetState struct {
	attempt int
	delay   time.Duration
	busy    bool // a reset is running
}

type resetter struct {
	cfg   Config
	deps  Deps
	state store.StateStream[reducers.Pool]
	bots  map[string]*resetState
}

func (r *resetter) onAction(a actions.Action, _ time.Time, out *emitter) {
	bot := botOf(a)
	if bot == "" {
		return
	}
	switch a.Type {
	case actions.BotFailed.Type():
		if _, ok := r.bots[bot]; ok {
			return // already resetting
		}
		// The state already includes a: a bot missing from it was
		// removed, before a (a late failure) or after it (its BotRemoved
		// follows).
		if !r.state.Value().Bots.Has(bot) {
			return
		}
		st := &resetState{}
		r.bots[bot] = st
		r.schedule(bot, st, out)
	case actions.Login.Type(), actions.Scan.Type(), actions.BotAdded.Type(), actions.BotRemoved.Type():
		r.stop(bot, out)
	case actions.Dong.Type():
		// A logged-out bot's connection may answer a puppet-level ding:
		// that proves nothing about the account.
		if b, ok := r.state.Value().Bots.Get(bot); ok && b.LoggedIn {
			r.stop(bot, out)
		}
	}
}

// stop ends bot's resets. A reset that is running finishes, but is not
// followed by another (see onTimer).
func (r *resetter) stop(bot string, out *emitter) {
	if _, ok := r.bots[bot]; ok {
		delete(r.bots, bot)
		out.cancel(bot)
	}
}

func (r *resetter) schedule(bot string, st *resetState, out *emitter) {
	st.attempt++
	st.delay = r.cfg.Backoff.Delay(st.attempt, r.cfg.Rand())
	out.at(bot, st.delay)
}

func (r *resetter) onTimer(bot string, _ time.Time, out *emitter) {
	st, ok := r.bots[bot]
	if !ok || st.busy {
		return
	}
	p, ok := r.deps.Puppet(bot)
	if !ok {
		r.stop(bot, out) // removed: nothing to reset
		return
	}
	st.busy = true
	attempt, delay := st.attempt, st.delay
	out.emit(actions.ResetStarted.New(actions.ResetPayload{Bot: bot, Attempt: attempt, Delay: delay}))
	timeout := r.cfg.SendTimeout
	out.effect(func(ctx context.Context) {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var err error
		if serr := p.Stop(rctx); serr != nil {
			err = fmt.Errorf("stop: %w", serr)
		}
		if serr := p.Start(rctx); serr != nil {
			err = fmt.Errorf("start: %w", serr)
		}
		if ctx.Err() != nil {
			return // the epic is stopping
		}
		if err == nil && rctx.Err() != nil {
			// Stop and Start returned nil, but after their deadline: a
			// puppet that ignores its context. Counted as a failed
			// attempt, so that the backoff goes on.
			err = fmt.Errorf("stop and start took longer than %v: %w", timeout, rctx.Err())
		}
		var a actions.Action
		if err != nil {
			a = actions.ResetFailed.New(actions.ResetPayload{Bot: bot, Attempt: attempt, Delay: delay, Error: err.Error()})
		} else {
			a = actions.ResetDone.New(actions.ResetPayload{Bot: bot, Attempt: attempt, Delay: delay})
		}
		out.post(func(out *emitter) {
			out.emit(a)
			// Schedule the next attempt unless the resets were stopped
			// meanwhile (a Login, a Scan, the bot removed), even if a new
			// run began for a bot of the same name.
			if cur, ok := r.bots[bot]; ok && cur == st {
				st.busy = false
				r.schedule(bot, st, out)
			}
		})
	})
}
