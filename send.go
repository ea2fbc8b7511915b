package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
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
// Say dispatches actions.SendRequested; the reducer routes it and the send
// epic makes each attempt; Say waits for the state to say how it ended,
// then dispatches actions.SendCollected. The send is in the state (and in
// DevTools) all along.
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
	id := string(strconv.AppendUint(append(buf[:0], "say-"...), p.sendSeq.Add(1), 10)) // one allocation
	if err := ctx.Err(); err != nil {
		return Receipt{}, &SendError{ID: id, To: to, Outcome: actions.Canceled, Detail: "the caller's context had ended", cause: err}
	}
	req.ID = id
	if err := p.st.dispatch(actions.SendRequested.New(req).WithSource("pool")); err != nil {
		if errors.Is(err, store.ErrStopped) {
			return Receipt{}, ErrStopped
		}
		return Receipt{}, fmt.Errorf("hawechaty: %w", err)
	}
	// An attempt through a puppet that answers at once (puppet.TrySayer)
	// is over when dispatch returns, most often: then no bell is needed.
	// Else the bell rings for every later action about the send; the
	// state is read again once it is hung, so none is missed.
	if sd, ok := p.st.pool().Sends.Get(id); ok && sd.Outcome.Done() {
		p.collect(id)
		return result(ctx, sd)
	}
	bell := p.bell.add(id)
	defer p.bell.remove(id)
	cancelled := ctx.Done() // nil for a context that never ends
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	var graceC <-chan time.Time
	for {
		sd, ok := p.st.pool().Sends.Get(id)
		if !ok {
			// Only a state from elsewhere (a Replace that bypassed the
			// pool's reducer) loses a send: it may have left.
			return Receipt{}, &SendError{ID: id, To: to, Outcome: actions.Unknown, Detail: "the send is no longer in the pool's state", cause: ctx.Err()}
		}
		if sd.Outcome.Done() {
			p.collect(id)
			return result(ctx, sd)
		}
		select {
		case <-bell:
		case <-p.st.done():
			return p.stoppedDuring(ctx, id, to)
		case <-cancelled:
			cancelled = nil
			if err := p.st.dispatch(actions.SendCanceled.New(actions.SendIDPayload{ID: id}).WithSource("pool")); err != nil {
				return p.stoppedDuring(ctx, id, to)
			}
			grace = time.NewTimer(abandonGrace)
			graceC = grace.C
		case <-graceC:
			sd, _ := p.st.pool().Sends.Get(id)
			if sd != nil && sd.Outcome.Done() {
				p.collect(id)
				return result(ctx, sd)
			}
			p.collect(id) // an orphan: forgotten when its attempt ends
			e := &SendError{ID: id, To: to, Outcome: actions.Abandoned, Detail: "the caller's context ended during the attempt", cause: ctx.Err()}
			if sd != nil {
				e.Bot, e.Attempts = sd.Bot, sd.Attempt
			}
			return Receipt{}, e
		}
	}
}

// stoppedDuring is the end of a Say whose pool stopped: the state is final.
func (p *Pool) stoppedDuring(ctx context.Context, id, to string) (Receipt, error) {
	sd, ok := p.st.pool().Sends.Get(id)
	switch {
	case ok && sd.Outcome.Done():
		return result(ctx, sd)
	case ok && sd.Attempt > 0 && !sd.Waiting: // an attempt was decided: the message may have left
		return Receipt{}, &SendError{ID: id, To: to, Bot: sd.Bot, Attempts: sd.Attempt, Outcome: actions.Unknown,
			Detail: "the pool stopped during the attempt", cause: ErrStopped}
	}
	return Receipt{}, ErrStopped
}

func (p *Pool) collect(id string) {
	if err := p.st.dispatch(actions.SendCollected.New(actions.SendIDPayload{ID: id}).WithSource("pool")); err != nil && !errors.Is(err, store.ErrStopped) {
		p.log.Warn("hawechaty: cannot collect a send", "id", id, "err", err)
	}
}

func result(ctx context.Context, sd *reducers.Send) (Receipt, error) {
	if sd.Outcome == actions.Delivered {
		return Receipt{ID: sd.ID, Bot: sd.Bot, Node: sd.Node, Attempts: sd.Attempt}, nil
	}
	return Receipt{}, &SendError{ID: sd.ID, To: sd.To, Bot: sd.Bot, Node: sd.Node, Attempts: sd.Attempt, Outcome: sd.Outcome, Detail: sd.Error, cause: ctx.Err()}
}

// doorbell wakes the Say waiting for a send when an action about it was
// reduced; Say then reads the state. It carries no result. Its bells are
// reused from Say to Say: waiting allocates nothing. (They are the
// doorbell's own, not a process-wide sync.Pool's: a channel made in one
// synctest bubble must not be used in another.)
type doorbell struct {
	mu      sync.Mutex
	waiters map[string]chan struct{}
	spare   []chan struct{} // bells not in use, empty
}

func (d *doorbell) add(id string) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ch chan struct{}
	if n := len(d.spare); n > 0 {
		ch = d.spare[n-1]
		d.spare = d.spare[:n-1]
	} else {
		ch = make(chan struct{}, 1)
	}
	d.waiters[id] = ch
	return ch
}

// remove forgets id's bell and keeps it for another Say. A ring sends
// only under d.mu, so none reaches the bell once it is out of the map.
func (d *doorbell) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch := d.waiters[id]
	if ch == nil {
		return
	}
	delete(d.waiters, id)
	select {
	case <-ch:
	default:
	}
	if len(d.spare) < maxSpareBells {
		d.spare = append(d.spare, ch)
	}
}

// maxSpareBells bounds the bells a doorbell keeps: as many as Says that
// waited at once, up to this.
const maxSpareBells = 1024

func (d *doorbell) ring(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ch := d.waiters[id]; ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (d *doorbell) ringAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ch := range d.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// doorbellMiddleware rings after the reducer ran an action that may have
// ended a send.
func doorbellMiddleware[S any](d *doorbell) store.Middleware[S] {
	return func(store.API[S]) func(store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				err := next(a)
				switch a.Type {
				case actions.SendResult.Type():
					p, _ := actions.SendResult.Match(a)
					d.ring(p.ID)
				case actions.SendCanceled.Type():
					p, _ := actions.SendCanceled.Match(a)
					d.ring(p.ID)
				case actions.SendRetry.Type():
					p, _ := actions.SendRetry.Match(a)
					d.ring(p.ID)
				case actions.Replaced.Type():
					d.ringAll()
				}
				return err
			}
		}
	}
}
