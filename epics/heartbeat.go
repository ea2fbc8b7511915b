package epics

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Heartbeat finds dead bots. After DingAfter (± DingJitter) without a sign
// of life it sends "ding" to the heartbeat contact, and again every
// DingEvery, emitting actions.Ding each time. After FailAfter of silence it
// emits actions.BotFailed; the Reset epic takes over from there.
//
// Signs of life are Login and Message, and Heartbeat and Dong from a bot
// that is logged in: a puppet's connection can go on beating (and answer
// a protocol-level ding) after the account logged out, and that proves
// nothing about the account. A logged-out bot is therefore failed
// FailAfter after its last sign of life, and reset.
//
// A Scan means the puppet works and waits for a human to scan a QR code.
// From the first Scan after the bot's last Login, the bot is not dinged and
// not failed for FailAfter; it is failed only when ScanTimeout passes
// without a Login. Later Scans (a refreshed QR code) do not move that
// deadline. The bot stays unavailable meanwhile: it is not logged in.
//
// A bot is watched from BotAdded (or from the epic's start, for the bots
// already in the pool), stops being watched when it fails or is removed,
// and is watched again when it shows a sign of life or a Scan. Actions
// about a bot that is not in the pool (late events of a removed bot) are
// ignored.
func Heartbeat(cfg Config, deps Deps) store.Epic[reducers.Pool] {
	cfg = cfg.Defaults()
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[reducers.Pool]) rxgo.Observable {
		return run(ctx, in, &heartbeat{cfg: cfg, deps: deps, state: state, bots: map[string]*watch{}})
	}
}

type watch struct {
	lastSeen  time.Time
	nextDing  time.Time
	failAt    time.Time
	dings     int
	scanSince time.Time // a QR scan is pending since then: failAt is the scan deadline, no dings
}

type heartbeat struct {
	cfg   Config
	deps  Deps
	state store.StateStream[reducers.Pool]
	bots  map[string]*watch
}

// onStart watches the bots that were added before the epic started.
func (h *heartbeat) onStart(now time.Time, out *emitter) {
	for bot := range h.state.Value().Bots.All() {
		h.watch(bot, now, out)
	}
}

func (h *heartbeat) onAction(a actions.Action, now time.Time, out *emitter) {
	bot := botOf(a)
	if bot == "" {
		return
	}
	switch a.Type {
	case actions.BotFailed.Type(), actions.BotRemoved.Type():
		h.forget(bot, out)
		return
	}
	// The state already includes a, so a bot missing from it was removed
	// before a or after it; either way it is not watched.
	b, ok := h.state.Value().Bots.Get(bot)
	if !ok {
		return
	}
	switch a.Type {
	case actions.BotAdded.Type(), actions.Login.Type(), actions.Message.Type():
		h.watch(bot, now, out)
	case actions.Heartbeat.Type(), actions.Dong.Type():
		if b.LoggedIn {
			h.watch(bot, now, out)
		}
	case actions.Scan.Type():
		if w, ok := h.bots[bot]; ok && !w.scanSince.IsZero() {
			return // a refreshed QR code: the deadline stands
		}
		w := &watch{lastSeen: now, failAt: now.Add(h.cfg.ScanTimeout), scanSince: now}
		h.bots[bot] = w
		h.arm(bot, w, now, out)
	}
}

// watch (re)starts bot's watch: silence is counted from now.
func (h *heartbeat) watch(bot string, now time.Time, out *emitter) {
	w := &watch{lastSeen: now, failAt: now.Add(h.cfg.FailAfter)}
	w.nextDing = now.Add(jittered(h.cfg.DingAfter, h.cfg.DingJitter, h.cfg.Rand()))
	h.bots[bot] = w
	h.arm(bot, w, now, out)
}

func (h *heartbeat) forget(bot string, out *emitter) {
	delete(h.bots, bot)
	out.cancel(bot)
}

func (h *heartbeat) arm(bot string, w *watch, now time.Time, out *emitter) {
	next := w.failAt
	if w.scanSince.IsZero() && w.nextDing.Before(next) {
		next = w.nextDing
	}
	out.at(bot, next.Sub(now))
}

func (h *heartbeat) onTimer(bot string, now time.Time, out *emitter) {
	w, ok := h.bots[bot]
	if !ok {
		return
	}
	if !h.state.Value().Bots.Has(bot) {
		h.forget(bot, out) // removed; its BotRemoved is on its way
		return
	}
	if !now.Before(w.failAt) {
		h.forget(bot, out)
		reason := fmt.Sprintf("no sign of life for %v after %d dings", now.Sub(w.lastSeen), w.dings)
		if !w.scanSince.IsZero() {
			reason = fmt.Sprintf("no login %v after a QR scan", now.Sub(w.scanSince))
		}
		out.emit(actions.BotFailed.New(actions.ReasonPayload{Bot: bot, Reason: reason}))
		return
	}
	if w.scanSince.IsZero() && !now.Before(w.nextDing) {
		w.dings++
		w.nextDing = now.Add(h.cfg.DingEvery)
		out.emit(actions.Ding.New(actions.DingPayload{Bot: bot, Attempt: w.dings}))
		h.ding(bot, out)
	}
	h.arm(bot, w, now, out)
}

// ding sends the probes. Their errors are logged, not counted as failed
// sends: silence is what fails a bot.
func (h *heartbeat) ding(bot string, out *emitter) {
	if h.deps.Puppet == nil {
		return
	}
	p, ok := h.deps.Puppet(bot)
	if !ok {
		return
	}
	contact, puppetDing, timeout := h.cfg.HeartbeatContact, h.cfg.PuppetDing, h.cfg.DingEvery
	log := h.deps.log()
	out.effect(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := p.Say(ctx, contact, "ding"); err != nil {
			log.Warn("epics: ding not sent", "bot", bot, "err", err)
		}
		if d, ok := p.(puppet.Dinger); ok && puppetDing {
			if err := d.Ding(ctx, "ding"); err != nil {
				log.Warn("epics: puppet ding failed", "bot", bot, "err", err)
			}
		}
	})
}
