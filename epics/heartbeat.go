package epics

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/samber/lo"
)

// Ding sends the dings the reducer decides. When a bot's silence passes
// DingAfter (± DingJitter), and then every DingEvery until a sign of
// life, the Clock's bot/DUE makes the reducer count a ding (Bot.DingBy);
// this handler then says "ding" to the heartbeat contact (and, with
// PuppetDing, asks the puppet for a protocol-level ding) and reports
// actions.Ding. A bot that does not follow the heartbeat contact
// (Pool.Unfollowed) and offers puppet.Dinger gets the protocol-level ding
// only. Its errors are reported, not counted as failed sends:
// silence is what fails a bot.
func Ding(cfg Config, deps Deps) Handler {
	cfg = cfg.Defaults()
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		if a.Type != actions.Due.Type() {
			return
		}
		p, _ := actions.Due.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok || b.DingBy != a.Meta.Seq || deps.Puppet == nil || !cfg.Drives(b) {
			return
		}
		pup, ok := deps.Puppet(p.Bot)
		if !ok {
			return
		}
		bot, attempt := p.Bot, b.Dings
		d, dinger := pup.(puppet.Dinger)
		protocolOnly := dinger && s.Unfollowed.Has(bot) // it cannot message the heartbeat contact
		fx.Run(func(ctx context.Context, done func(...actions.Action)) {
			ctx, cancel := context.WithTimeout(ctx, cfg.DingEvery)
			defer cancel()
			res := actions.DingPayload{Bot: bot, Attempt: attempt}
			var err error
			if !protocolOnly {
				err = pup.Say(ctx, cfg.HeartbeatContact, "ding")
			}
			if dinger && (cfg.PuppetDing || protocolOnly) {
				if derr := d.Ding(ctx, "ding"); derr != nil && err == nil {
					err = fmt.Errorf("protocol ding: %w", derr)
				}
			}
			if err != nil {
				res.Error = err.Error()
				deps.log().Warn("epics: ding failed", "bot", bot, "err", err)
			}
			done(actions.Ding.New(res))
		})
	}
}

// Reset resets the bots the reducer decides. A failed bot's resets are
// due after Backoff.Delay(1), Delay(2) … (the reducer schedules each when
// the one before has ended), until it logs in or answers a ding; on the
// Clock's bot/DUE that starts one (Bot.ResetBy), this handler stops and
// starts the bot's puppet and reports actions.ResetDone. A reset whose
// Stop and Start take longer than SendTimeout is reported failed at
// SendTimeout, even if the puppet ignores its context, so the backoff
// goes on.
func Reset(cfg Config, deps Deps) Handler {
	cfg = cfg.Defaults()
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		if a.Type != actions.Due.Type() {
			return
		}
		p, _ := actions.Due.Match(a)
		b, ok := s.Bots.Get(p.Bot)
		if !ok || b.ResetBy != a.Meta.Seq || !cfg.Drives(b) {
			return
		}
		bot, attempt, timeout := p.Bot, b.Reset, cfg.SendTimeout
		fx.Run(func(ctx context.Context, done func(...actions.Action)) {
			res := actions.ResetPayload{Bot: bot, Attempt: attempt, Decision: a.Meta.Seq}
			pup, ok := deps.Puppet(bot)
			if !ok {
				res.Error = "the bot is no longer in the pool"
				done(actions.ResetDone.New(res))
				return
			}
			late := res
			late.Error = fmt.Sprintf("stop and start took longer than %v", timeout)
			timer := time.AfterFunc(timeout, func() { done(actions.ResetDone.New(late)) })
			defer timer.Stop()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var err error
			if serr := pup.Stop(rctx); serr != nil {
				err = fmt.Errorf("stop: %w", serr)
			}
			if serr := pup.Start(rctx); serr != nil {
				err = fmt.Errorf("start: %w", serr)
			}
			if err == nil && rctx.Err() != nil {
				err = fmt.Errorf("stop and start took longer than %v: %w", timeout, rctx.Err())
			}
			if err != nil {
				res.Error = err.Error()
			}
			done(actions.ResetDone.New(res))
		})
	}
}

// Rooms lists a bot's rooms when the reducer asks for it (Bot.RoomsBy: at
// login, and after a permanent send failure, which is what a bot that left
// a room gets), and reports actions.RoomsLearned, so that sends to a room
// go through its members.
func Rooms(cfg Config, deps Deps) Handler { return onBot(rooms(cfg, deps)) }

func rooms(cfg Config, deps Deps) botHandler {
	cfg = cfg.Defaults()
	return lister(cfg, deps, "rooms", func(b *reducers.Bot) uint64 { return b.RoomsBy },
		func(ctx context.Context, bot string, pup puppet.Puppet) (actions.Action, error) {
			rooms, err := pup.Rooms(ctx)
			if err != nil {
				return actions.Action{}, err
			}
			ids := lo.Map(rooms, func(r puppet.Room, _ int) string { return r.ID })
			return actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: ids}), nil
		})
}

// lister is a handler that asks a bot this process drives for a list
// (its rooms, its contacts) when the reducer decided it (by(bot) holds
// the deciding action's Seq), and reports what list returns. A listing
// that fails is logged and reports nothing.
func lister(cfg Config, deps Deps, what string, by func(*reducers.Bot) uint64,
	list func(ctx context.Context, bot string, pup puppet.Puppet) (actions.Action, error)) botHandler {
	return func(a actions.Action, bot string, b *reducers.Bot, fx *Effects) {
		if b == nil || by(b) != a.Meta.Seq || deps.Puppet == nil || !cfg.Drives(b) {
			return
		}
		pup, ok := deps.Puppet(bot)
		if !ok {
			return
		}
		fx.Run(func(ctx context.Context, done func(...actions.Action)) {
			ctx, cancel := context.WithTimeout(ctx, cfg.SendTimeout)
			defer cancel()
			learned, err := list(ctx, bot, pup)
			if err != nil {
				deps.log().Warn("epics: cannot list "+what, "bot", bot, "err", err)
				done()
				return
			}
			done(learned)
		})
	}
}

// Health tells what the reducer decided about availability: a bot that
// became unavailable (actions.BotFailed with the reason) or available
// again (actions.BotRecovered), and the pool's last bot failing
// (actions.PoolFailed) or its first one recovering (actions.PoolRecovered).
// Flips that the state has already undone by the time the epic reads it
// are told only by their undoing.
func Health() Handler {
	bot := onBot(botHealth)
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		bot(a, s, fx)
		poolHealth(a, &s, fx)
	}
}

// botHealth is Health's part for the bot an action is about.
func botHealth(a actions.Action, bot string, b *reducers.Bot, fx *Effects) {
	if b == nil || b.FlipBy != a.Meta.Seq {
		return
	}
	if b.Available {
		fx.Emit(actions.BotRecovered.New(actions.BotPayload{Bot: bot}))
	} else {
		fx.Emit(actions.BotFailed.New(actions.ReasonPayload{Bot: bot, Reason: b.Reason, Decided: true}))
	}
}

// poolHealth is Health's part for the pool.
func poolHealth(a actions.Action, s *reducers.Pool, fx *Effects) {
	if s.DownBy != a.Meta.Seq {
		return
	}
	if s.Down {
		fx.Emit(actions.PoolFailed.New(actions.Empty{}))
	} else {
		fx.Emit(actions.PoolRecovered.New(actions.Empty{}))
	}
}

// botHandler is the part of a handler that reads only the bot an action
// is about (actions.BotOf): bot, and b, its record in the state the
// handler reads, nil when the state has no such bot. All looks the record
// up once for all of them.
type botHandler func(a actions.Action, bot string, b *reducers.Bot, fx *Effects)

// onBot is h as a Handler: asked about every action, it looks up the bot
// of those about one.
func onBot(h botHandler) Handler {
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		if bot := actions.BotOf(a); bot != "" {
			b, _ := s.Bots.Get(bot)
			h(a, bot, b, fx)
		}
	}
}

// Inbox announces every message the reducer accepted (new, and not the
// pool's own) with actions.MessageAccepted, after handing it to
// deps.Deliver: one action per message the application sees.
func Inbox(deps Deps) Handler {
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		if a.Type != actions.Message.Type() {
			return
		}
		p, _ := actions.Message.Match(a)
		if s.AcceptedBy(reducers.SeenKey(p.MessageID, a.Meta.Seq)) != a.Meta.Seq {
			return
		}
		if deps.Deliver != nil {
			deps.Deliver(p)
		}
		fx.Emit(actions.MessageAccepted.New(p))
	}
}
