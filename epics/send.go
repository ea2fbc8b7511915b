package epics

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
)

// Send makes the send attempts the reducer routes. The reducer chooses the
// bot of every attempt (round robin or affinity, among the available bots
// that can reach the target and were not tried) in the action that calls
// for it: send/REQUESTED, send/RETRY, or the send/RESULT of an attempt
// that was certainly not sent (reducers.Send.RoutedBy). This handler then
// calls the bot's puppet and reports actions.SendResult with the puppet's
// outcome; the reducer retries, ejects or ends the send.
//
// A text attempt through a bot whose puppet can answer at once
// (puppet.TrySayer) is made on the goroutine that handles the action
// routing it (Effects.RunNow); any other attempt runs on a goroutine of
// its own. An attempt is bounded by SendTimeout, and by nothing else: a puppet that
// has not answered by then is reported at SendTimeout with an unknown
// outcome, which counts against the bot. When the caller's context ends
// (send/CANCELED) the attempt goes on, so that a bot whose sends hang is
// ejected whatever deadlines the callers use, and a slow bot that
// delivers is not held to a caller's deadline; the reducer ends the send
// as the caller's (canceled when the puppet says it was not sent,
// abandoned when it may have been).
//
// An attempt routed to a bot that another process drives (Bot.Node,
// in a cluster) is handed to Deps.Forward, which reports its owner's
// result.
//
// When bots become available (bot/RECOVERED, bot/ROOMS, bot/CONTACTS,
// bot/CONTACT_ADDED), a bot is removed, or a bot's send budget refilled (the bot/DUE that
// set Bot.RefillBy), the sends that wait for one (WaitForBot, or over
// budget) are asked to be routed again with send/RETRY.
func Send(cfg Config, deps Deps) Handler {
	cfg = cfg.Defaults()
	snd := &sender{timeout: cfg.SendTimeout, deps: deps, node: cfg.Node, hung: fmt.Sprintf("no answer within %v", cfg.SendTimeout)}
	return func(a actions.Action, s reducers.Pool, fx *Effects) {
		var id string
		switch a.Type {
		case actions.SendRequested.Type():
			p, _ := actions.SendRequested.Match(a)
			id = p.ID
		case actions.SendRetry.Type():
			p, _ := actions.SendRetry.Match(a)
			id = p.ID
		case actions.SendResult.Type():
			p, _ := actions.SendResult.Match(a)
			id = p.ID
		case actions.SendCanceled.Type():
			// The attempt goes on to its end or to SendTimeout: only the
			// puppet's own answer tells a slow bot from a hung one, and the
			// reducer ends the send as the caller's (canceled, abandoned).
			return
		case actions.Due.Type():
			if p, _ := actions.Due.Match(a); refilled(s, p.Bot, a.Meta.Seq) {
				for id := range s.Queue.All() { // those over budget: a refill does not help a send with no bot
					if sd, ok := s.Sends.Get(id); ok && sd.Throttled {
						fx.Emit(actions.SendRetry.New(actions.SendIDPayload{ID: id}))
					}
				}
			}
			return
		default:
			if wakesQueue(a.Type) {
				retryQueue(s, fx)
			}
			return
		}
		sd, ok := s.Sends.Get(id)
		if !ok || sd.RoutedBy != a.Meta.Seq || sd.Outcome.Done() {
			return
		}
		if b, ok := s.SendBot(sd); ok && !cfg.Drives(b) {
			fx.Run(forward(deps, *sd, b.Node))
			return
		}
		if sd.Media == nil {
			fx.RunNow(&textAttempt{snd, sd})
			return
		}
		fx.Run(snd.attempt(sd))
	}
}

// wakesQueue tells the action types after which the sends that wait for
// a bot are routed again: a bot became available or reaches more, or a
// bot was removed (it takes its refill deadline with it).
func wakesQueue(typ string) bool {
	switch typ {
	case actions.BotRecovered.Type(), actions.RoomsLearned.Type(), actions.ContactsLearned.Type(), actions.ContactAdded.Type(),
		actions.BotRemoved.Type():
		return true
	}
	return false
}

func retryQueue(s reducers.Pool, fx *Effects) {
	for id := range s.Queue.All() {
		fx.Emit(actions.SendRetry.New(actions.SendIDPayload{ID: id}))
	}
}

func refilled(s reducers.Pool, bot string, seq uint64) bool {
	b, ok := s.Bots.Get(bot)
	return ok && b.RefillBy == seq
}

// sender makes the send attempts of one Send handler.
type sender struct {
	timeout time.Duration
	deps    Deps
	hung    string // the error of an attempt that did not answer in time
	node    string // this process, in a cluster (Config.Node)
}

// attempt is one send attempt: the puppet call, reported once, at the
// latest SendTimeout after it began. The puppet's context is the
// effect's, which ends when the attempt is reported: by the puppet's
// answer, or by the timer at SendTimeout. sd is the send's record in
// the state, which nobody changes.
func (snd *sender) attempt(sd *reducers.Send) func(context.Context, func(...actions.Action)) {
	return func(ctx context.Context, done func(...actions.Action)) {
		pup, ok := snd.puppet(sd)
		var err error
		if ok {
			// One timer bounds the attempt: it reports, which ends the
			// puppet's context, whether or not the puppet returns.
			timer := time.AfterFunc(snd.timeout, func() { done(snd.result(sd, actions.Unknown, snd.hung)) })
			err = say(ctx, pup, sd)
			timer.Stop()
		} else {
			err = fmt.Errorf("bot %q is not in the pool: %w", sd.Bot, puppet.ErrNotSent)
		}
		var detail string
		if err != nil {
			detail = err.Error()
		}
		done(snd.result(sd, puppet.Classify(err), detail))
	}
}

// textAttempt is a text attempt, tried at once through a
// puppet.TrySayer on the goroutine that handles the action that routed
// it: no hand-over to the attempt's goroutine and back, no timer. When
// the bot's puppet has no TrySay or would have to wait, Run makes the
// attempt as any other.
type textAttempt struct {
	snd *sender
	sd  *reducers.Send
}

func (t *textAttempt) Try() (actions.Action, bool) {
	pup, ok := t.snd.puppet(t.sd)
	if !ok {
		return actions.Action{}, false
	}
	done, err := puppet.TrySay(pup, t.sd.To, t.sd.Text)
	if !done {
		return actions.Action{}, false
	}
	var detail string
	if err != nil {
		detail = err.Error()
	}
	return t.snd.result(t.sd, puppet.Classify(err), detail), true
}

func (t *textAttempt) Run(ctx context.Context, done func(...actions.Action)) {
	t.snd.attempt(t.sd)(ctx, done)
}

// puppet is the puppet of sd's bot; none without Deps.Puppet.
func (snd *sender) puppet(sd *reducers.Send) (puppet.Puppet, bool) {
	if snd.deps.PuppetAt != nil {
		return snd.deps.PuppetAt(sd.Bot, sd.BotPosition())
	}
	if snd.deps.Puppet == nil {
		return nil, false
	}
	return snd.deps.Puppet(sd.Bot)
}

// result is the send/RESULT of sd's current attempt.
func (snd *sender) result(sd *reducers.Send, o actions.Outcome, detail string) actions.Action {
	return actions.SendResult.New(actions.SendResultPayload{ID: sd.ID, Bot: sd.Bot, Attempt: sd.Attempt, Node: snd.node, Outcome: o, Error: detail})
}

// say is the attempt's puppet call: Say for text, the puppet's capability
// for media (puppet.SendMedia: a puppet without it answers unsupported, a
// permanent outcome).
func say(ctx context.Context, pup puppet.Puppet, sd *reducers.Send) error {
	if sd.Media != nil {
		return puppet.SendMedia(ctx, pup, sd.To, *sd.Media)
	}
	return pup.Say(ctx, sd.To, sd.Text)
}
