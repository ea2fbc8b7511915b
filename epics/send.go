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
// An attempt is bounded by SendTimeout, and by nothing else: a puppet that
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
// When bots become available (bot/RECOVERED, bot/ROOMS), the sends that
// wait for one (WaitForBot) are asked to be routed again with send/RETRY.
func Send(cfg Config, deps Deps) Handler {
	cfg = cfg.Defaults()
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
		case actions.BotRecovered.Type(), actions.RoomsLearned.Type():
			for id := range s.Queue.All() {
				fx.Emit(actions.SendRetry.New(actions.SendIDPayload{ID: id}))
			}
			return
		default:
			return
		}
		sd, ok := s.Sends.Get(id)
		if !ok || sd.RoutedBy != a.Meta.Seq || sd.Outcome.Done() {
			return
		}
		if b, ok := s.Bots.Get(sd.Bot); ok && !cfg.Drives(b) {
			fx.Run(forward(deps, *sd, b.Node))
			return
		}
		fx.Run(attempt(cfg, deps, *sd))
	}
}

// attempt is one send attempt: the puppet call, reported once, at the
// latest SendTimeout after it began.
func attempt(cfg Config, deps Deps, sd reducers.Send) func(context.Context, func(...actions.Action)) {
	return func(ctx context.Context, done func(...actions.Action)) {
		res := actions.SendResultPayload{ID: sd.ID, Bot: sd.Bot, Attempt: sd.Attempt, Node: cfg.Node}
		report := func(err error) {
			res.Outcome = puppet.Classify(err)
			if err != nil {
				res.Error = err.Error()
			}
			done(actions.SendResult.New(res))
		}
		pup, ok := deps.Puppet(sd.Bot)
		if !ok {
			report(fmt.Errorf("bot %q is not in the pool: %w", sd.Bot, puppet.ErrNotSent))
			return
		}
		hung := res
		hung.Outcome, hung.Error = actions.Unknown, fmt.Sprintf("no answer within %v", cfg.SendTimeout)
		actx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		// One timer bounds the attempt: it ends the puppet's context and
		// reports, whether or not the puppet returns.
		timer := time.AfterFunc(cfg.SendTimeout, func() {
			cancel(context.DeadlineExceeded)
			done(actions.SendResult.New(hung))
		})
		defer timer.Stop()
		report(pup.Say(actx, sd.To, sd.Text))
	}
}
