package epics

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// A Forwarder makes a send attempt on a bot that another process drives
// (package cluster): it hands the attempt to node, the bot's owner, and
// returns how it ended. It must return once, and truthfully: NotSent only
// when the owner certainly did not send (it never took the attempt, or
// refused it), Unknown when it may have; and it must return when ctx
// ends (with Unknown if the attempt may be under way).
type Forwarder interface {
	Forward(ctx context.Context, node string, sd reducers.Send) actions.SendResultPayload
}

// forward is one attempt made by another process: the forwarder's result,
// reported as the attempt's.
func forward(deps Deps, sd reducers.Send, node string) func(context.Context, func(...actions.Action)) {
	return func(ctx context.Context, done func(...actions.Action)) {
		res := actions.SendResultPayload{ID: sd.ID, Bot: sd.Bot, Attempt: sd.Attempt, Node: node, Outcome: actions.NotSent}
		switch {
		case node == "":
			res.Error = fmt.Sprintf("no process drives bot %q", sd.Bot)
		case deps.Forward == nil:
			res.Error = fmt.Sprintf("bot %q is driven by node %q and this pool forwards no sends", sd.Bot, node)
		default:
			got := deps.Forward.Forward(ctx, node, sd)
			got.ID, got.Bot, got.Attempt = sd.ID, sd.Bot, sd.Attempt
			if !got.Outcome.Done() {
				got.Outcome, got.Error = actions.Unknown, fmt.Sprintf("the forwarder gave no outcome: %s", got.Error)
			}
			if got.Node == "" {
				got.Node = node
			}
			res = got
		}
		done(actions.SendResult.New(res))
	}
}
