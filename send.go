package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// SendError is the error of a Say that did not deliver. It wraps ErrNoBot,
// puppet.ErrNotSent, puppet.ErrOutcomeUnknown, puppet.ErrPermanent,
// ErrUnreachable (with puppet.ErrNotFriend) or ErrRateLimited (with the
// caller's context error), so errors.Is tells what happened. When the caller's context ended the send
// it wraps that context's error (context.Canceled or
// context.DeadlineExceeded), and puppet.ErrOutcomeUnknown as well if the
// message may have left (actions.Abandoned). When the pool stopped during
// an attempt it wraps ErrStopped and puppet.ErrOutcomeUnknown.
type SendError struct {
	ID       string // the send's ID, as in the store's actions
	To       string
	Bot      string // the last bot tried, if any
	Node     string // the process of the last attempt, in a cluster
	Attempts int
	Outcome  actions.Outcome
	Detail   string // the puppet's error text

	cause error // the caller's context error, or ErrStopped
}

func (e *SendError) Error() string {
	msg := fmt.Sprintf("hawechaty: send %s to %q: %s", e.ID, e.To, e.Outcome)
	switch {
	case e.Bot != "" && e.Node != "":
		msg += fmt.Sprintf(" (bot %q on node %q, %d attempts)", e.Bot, e.Node, e.Attempts)
	case e.Bot != "":
		msg += fmt.Sprintf(" (bot %q, %d attempts)", e.Bot, e.Attempts)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel matching the outcome, and the caller's
// context error when the caller's context ended the send.
func (e *SendError) Unwrap() []error {
	cause := e.cause
	if cause == nil {
		cause = context.Canceled // a SendError built outside Say
	}
	switch e.Outcome {
	case actions.NoBot:
		return []error{ErrNoBot}
	case actions.NotSent:
		return []error{puppet.ErrNotSent}
	case actions.Permanent:
		return []error{puppet.ErrPermanent}
	case actions.Canceled:
		return []error{cause}
	case actions.Abandoned:
		return []error{cause, puppet.ErrOutcomeUnknown}
	case actions.Unreachable:
		return []error{ErrUnreachable, puppet.ErrNotFriend}
	case actions.RateLimited:
		return []error{ErrRateLimited, cause}
	}
	if errors.Is(e.cause, ErrStopped) {
		return []error{ErrStopped, puppet.ErrOutcomeUnknown}
	}
	return []error{puppet.ErrOutcomeUnknown}
}

// Receipt tells which bot delivered a message.
type Receipt struct {
	ID       string
	Bot      string
	Node     string // the process that drove Bot, in a cluster (package cluster)
	Attempts int    // more than 1 when the send failed over
}

// abandonGrace is how long Say waits, after its context ended during an
// attempt, for the puppet's answer before it reports the send abandoned.
const abandonGrace = 100 * time.Millisecond

// Say sends text to a room or contact through one available bot that can
// reach it (a room's members; for a contact the pool has learned, the bots
// that listed it) and has a send left in its budget (WithRateLimit). It
// returns exactly once: a Receipt when a bot delivered, or a *SendError
// (or ErrStopped, ErrNotStarted when nothing was sent). A send that was
// certainly not sent, or refused as not a friend, is retried on the next
// bot; an unknown outcome is reported, never sent twice. When every bot
// that could send is over its budget, Say waits for a refill within ctx.
//
// Say dispatches actions.SendRequested (with SendPayload.Collect); the
// reducer routes it and the send epic makes each attempt; Say waits for
// the state to say how it ended. The send is in the state's Sends (and in
// DevTools) until it ends; the action that ends it moves it to the
// state's Ended, with its outcome, and Say takes it from that state (a
// store commit hook hands it over when later actions have replaced that
// state by the time Say looks). A Say that gives up on an attempt under
// way dispatches actions.SendCollected: the send is then an orphan.
//
// ctx bounds the caller's wait; each attempt is bounded by the send
// timeout. When ctx ends first the error wraps ctx.Err(): "canceled" when
// nothing was sent (the send waited for a bot, or the puppet answered
// "not sent" within 100 ms), else "abandoned" (the message may have
// left). Say returns at most 100 ms after ctx ends. The attempt under way
// is not cut short: it goes on to the puppet's answer or the send
// timeout, and counts for or against the bot by that answer alone. A Say
// whose ctx is already done sends nothing.
func (p *Pool) Say(ctx context.Context, to, text string) (Receipt, error) {
	return p.send(ctx, actions.SendPayload{To: to, Text: text})
}

// send is Say for any send request (text or media); it sets req.ID.
func (p *Pool) send(ctx context.Context, req actions.SendPayload) (Receipt, error) {
	to := req.To
	if ctx == nil {
		return Receipt{}, errors.New("hawechaty: Say with a nil context")
	}
	if to == "" {
		return Receipt{}, errors.New("hawechaty: Say with an empty target")
	}
	p.mu.Lock()
	state := p.state
	p.mu.Unlock()
	switch state {
	case stopped:
		return Receipt{}, ErrStopped
	case created, starting:
		return Receipt{}, fmt.Errorf("%w: Say before Start has started the pool", ErrNotStarted)
	}
	var buf [24]byte
	seq := p.sendSeq.Add(1)
	id := string(strconv.AppendUint(append(buf[:0], "say-"...), seq, 10)) // one allocation
	if err := ctx.Err(); err != nil {
		return Receipt{}, &SendError{ID: id, To: to, Outcome: actions.Canceled, Detail: "the caller's context had ended", cause: err}
	}
	req.ID, req.Collect = id, true
	// The waiter is there before the request: the hook hands it the
	// send's end, whichever goroutine's action ends it.
	w := p.bell.add(id, seq)
	defer p.bell.remove(id, seq, w)
	if err := p.st.dispatch(actions.SendRequested.New(req).WithSource("pool")); err != nil {
		if errors.Is(err, store.ErrStopped) {
			return Receipt{}, ErrStopped
		}
		return Receipt{}, fmt.Errorf("hawechaty: %w", err)
	}
	cancelled := ctx.Done() // nil for a context that never ends
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	var graceC <-chan time.Time
	for {
		// An attempt through a puppet that answers at once
		// (puppet.TrySayer) is over when dispatch returns, most often:
		// then the send has ended at the first look, and nothing waits.
		sd, ok := p.ended(id, w)
		if ok {
			if sd == nil {
				// Only a state from elsewhere (a Replace that bypassed the
				// pool's reducer) loses a send: it may have left.
				return Receipt{}, &SendError{ID: id, To: to, Outcome: actions.Unknown, Detail: "the send is no longer in the pool's state", cause: ctx.Err()}
			}
			return result(ctx, sd)
		}
		select {
		case <-w.ch:
		case <-p.st.done():
			return p.stoppedDuring(ctx, id, to, w)
		case <-cancelled:
			cancelled = nil
			if err := p.st.dispatch(actions.SendCanceled.New(actions.SendIDPayload{ID: id}).WithSource("pool")); err != nil {
				return p.stoppedDuring(ctx, id, to, w)
			}
			grace = time.NewTimer(abandonGrace)
			graceC = grace.C
		case <-graceC:
			sd, done := p.ended(id, w)
			if done && sd != nil {
				return result(ctx, sd)
			}
			// An orphan now: the send stays in the state until its
			// attempt ends, and the pool forgets it then.
			p.collect(id)
			e := &SendError{ID: id, To: to, Outcome: actions.Abandoned, Detail: "the caller's context ended during the attempt", cause: ctx.Err()}
			if !done {
				e.Bot, e.Attempts = sd.Bot, sd.Attempt
			}
			return Receipt{}, e
		}
	}
}

// ended reports whether send id has ended and how: its end, or nil when
// the state lost it (a state from elsewhere); while it has not ended, its
// record in flight (as an End whose Outcome is Pending). The
// state is read first: a send that the commit hook has not handed to w
// yet is the state's Ended, or still in Sends; one that a later send's
// end has pushed out of Ended was handed to w before that later end was
// committed.
func (p *Pool) ended(id string, w *waiter) (*reducers.End, bool) {
	st := p.st.pool()
	if e := w.end.Load(); e != nil {
		return e, true
	}
	if st.Ended != nil && st.Ended.ID == id {
		return st.Ended, true
	}
	if sd, ok := st.Sends.Get(id); ok {
		return &reducers.End{Send: sd, Outcome: sd.Outcome, Error: sd.Error, Node: sd.Node}, sd.Outcome.Done()
	}
	return nil, true
}

// stoppedDuring is the end of a Say whose pool stopped: the state is final.
func (p *Pool) stoppedDuring(ctx context.Context, id, to string, w *waiter) (Receipt, error) {
	sd, done := p.ended(id, w)
	if done && sd != nil {
		return result(ctx, sd)
	}
	if !done && sd.Attempt > 0 && !sd.Waiting { // an attempt was decided: the message may have left
		return Receipt{}, &SendError{ID: id, To: to, Bot: sd.Bot, Attempts: sd.Attempt, Outcome: actions.Unknown,
			Detail: "the pool stopped during the attempt", cause: ErrStopped}
	}
	return Receipt{}, ErrStopped
}

// collect tells the pool that the caller of send id stopped waiting for
// it (actions.SendCollected): an orphan, which the state says.
func (p *Pool) collect(id string) {
	if err := p.st.dispatch(actions.SendCollected.New(actions.SendIDPayload{ID: id}).WithSource("pool")); err != nil && !errors.Is(err, store.ErrStopped) {
		p.log.Warn("hawechaty: cannot collect a send", "id", id, "err", err)
	}
}

func result(ctx context.Context, sd *reducers.End) (Receipt, error) {
	if sd.Outcome == actions.Delivered {
		return Receipt{ID: sd.ID, Bot: sd.Bot, Node: sd.Node, Attempts: sd.Attempt}, nil
	}
	return Receipt{}, &SendError{ID: sd.ID, To: sd.To, Bot: sd.Bot, Node: sd.Node, Attempts: sd.Attempt, Outcome: sd.Outcome, Detail: sd.Error, cause: ctx.Err()}
}

// doorbellHook is the store's commit hook that rings: it sees every
// state with the action that made it (store.WithCommitHook), so the
// Say of a send that an action ended gets the send's record from the
// state that action made, even when later actions have replaced that
// state by the time the Say looks.
func doorbellHook[S any](d *doorbell, get func(S) reducers.Pool) func(actions.Action, *S) {
	return func(a actions.Action, s *S) {
		switch a.Type {
		case actions.SendRequested.Type(), actions.SendResult.Type(), actions.SendCanceled.Type(), actions.SendRetry.Type():
		case actions.Replaced.Type():
			d.ringAll()
			return
		default:
			return
		}
		// Only an end concerns the Say: it waits for nothing else.
		if e := get(*s).Ended; e != nil && e.ID == actions.SendOf(a) {
			d.ring(e.ID, e)
		}
	}
}
