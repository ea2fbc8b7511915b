package epics

import (
	"context"
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// Send routes and retries sends. For each actions.SendRequested it picks a
// bot (round robin, or affinity), records the choice with
// actions.SendRouted, sends through the bot's puppet and reports
// actions.SendResult. When the puppet says the message was not sent, it
// tries the next bot that has not been tried; any other outcome ends the
// send. Every send ends with exactly one actions.SendDone.
//
// Ejection: after EjectAfter consecutive sends of a bot that were not
// delivered (not sent, or outcome unknown; permanent failures do not
// count), the bot is failed at once with actions.BotFailed, before the
// send moves on, as a load balancer's outlier detection does.
//
// The caller's context (Deps.SendContext) bounds the send. A send whose
// caller has given up is not routed: it ends with outcome "canceled". An
// attempt cut short by the caller's context, not by SendTimeout, is not
// the bot's fault and does not count towards ejection: it ends the send
// with "canceled" when the puppet says it was not sent, or "abandoned"
// when it may have been (never retried on another bot).
//
// The actions of one send are dispatched synchronously through
// Deps.Dispatch, in order, rather than emitted on the epic's output: each
// routing decision (and an ejection) must be reduced before the next pick,
// or two sends could both see the old cursor, or a retry the ejected bot.
//
// With no bot available the send ends at once with outcome "no bot",
// unless WaitForBot is set: then it waits for a bot to become available
// for as long as the caller's context allows.
func Send(cfg Config, deps Deps) store.Epic[reducers.Pool] {
	cfg = cfg.Defaults()
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[reducers.Pool]) rxgo.Observable {
		s := &sender{cfg: cfg, deps: deps, state: state, changed: make(chan struct{})}
		return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			items := in.Observe(rxgo.WithContext(ctx))
			for {
				select {
				case <-ctx.Done():
					return
				case it, ok := <-items:
					if !ok {
						return
					}
					a, _ := it.V.(actions.Action)
					if p, ok := actions.SendRequested.Match(a); ok {
						wg.Add(1)
						go func() {
							defer wg.Done()
							s.send(ctx, p)
						}()
					} else if availabilityMayRise(a) {
						s.broadcast()
					}
				}
			}
		}}, rxgo.WithContext(ctx))
	}
}

func availabilityMayRise(a actions.Action) bool {
	switch a.Type {
	case actions.Login.Type(), actions.Dong.Type(), actions.RoomsLearned.Type(), actions.Replaced.Type():
		return true
	}
	return false
}

type sender struct {
	cfg   Config
	deps  Deps
	state store.StateStream[reducers.Pool]

	route   sync.Mutex // one routing decision at a time: exact round robin
	mu      sync.Mutex
	changed chan struct{} // closed and replaced when availability may rise
}

func (s *sender) broadcast() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *sender) waitChange() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *sender) pick(to string, tried map[string]bool, id string, attempt int) (string, bool) {
	s.route.Lock()
	defer s.route.Unlock()
	exclude := func(b string) bool { return tried[b] }
	var bot string
	var ok bool
	if s.cfg.Affinity {
		bot, ok = selectors.AffinityBot(s.state.Value(), to, exclude)
	} else {
		bot, ok = selectors.NextBot(s.state.Value(), to, exclude)
	}
	if ok {
		// Synchronous: the reducer has moved the cursor before the next pick.
		_ = s.deps.Dispatch(actions.SendRouted.New(actions.RoutePayload{ID: id, Bot: bot, Attempt: attempt}).WithSource("epic/send"))
	}
	return bot, ok
}

func (s *sender) send(ctx context.Context, p actions.SendPayload) {
	callCtx := ctx
	if s.deps.SendContext != nil {
		if c := s.deps.SendContext(p.ID); c != nil {
			var stop context.CancelFunc
			callCtx, stop = context.WithCancel(c)
			defer stop()
			unlink := context.AfterFunc(ctx, stop)
			defer unlink()
		}
	}
	emit := func(a actions.Action) {
		if err := s.deps.Dispatch(a.WithSource("epic/send")); err != nil {
			s.deps.log().Warn("epics: send action refused", "type", a.Type, "err", err)
		}
	}
	done := actions.SendDonePayload{ID: p.ID}
	defer func() { emit(actions.SendDone.New(done)) }()
	tried := map[string]bool{}
	for attempt := 1; ; attempt++ {
		var bot string
		for {
			// A caller that gave up gets no bot: a send on its behalf could
			// only fail and count against a healthy bot.
			if err := callCtx.Err(); err != nil {
				done.Outcome, done.Attempts, done.Error = reducers.OutcomeCanceled, attempt-1, err.Error()
				return
			}
			changed := s.waitChange()
			var ok bool
			if bot, ok = s.pick(p.To, tried, p.ID, attempt); ok {
				break
			}
			if !s.cfg.WaitForBot || len(tried) > 0 {
				done.Outcome, done.Attempts = reducers.OutcomeNoBot, attempt-1
				done.Error = "no available bot can reach " + p.To
				return
			}
			select {
			case <-changed:
			case <-callCtx.Done():
			}
		}
		pup, ok := s.deps.Puppet(bot)
		var err error
		if !ok {
			err = puppet.ErrNotSent
		} else {
			actx, cancel := context.WithTimeout(callCtx, s.cfg.SendTimeout)
			err = pup.Say(actx, p.To, p.Text)
			cancel()
		}
		outcome := outcomeOf(puppet.Classify(err))
		if err != nil && callCtx.Err() != nil {
			outcome = givenUp(outcome)
		}
		res := actions.SendResultPayload{ID: p.ID, Bot: bot, Attempt: attempt, Outcome: outcome}
		if err != nil {
			res.Error = err.Error()
		}
		emit(actions.SendResult.New(res))
		s.maybeEject(bot, outcome, emit)
		done.Bot, done.Attempts, done.Outcome, done.Error = bot, attempt, outcome, res.Error
		if outcome != reducers.OutcomeNotSent || callCtx.Err() != nil {
			return
		}
		tried[bot] = true
	}
}

// givenUp is the outcome of an attempt that failed after the caller's
// context (or the pool's) ended, rather than the attempt's own
// SendTimeout: the caller stopped waiting, which says nothing about the
// bot, so the outcome is one that neither the reducer's failure count nor
// the ejection counts. A send that may have left stays unknown to the
// caller (OutcomeAbandoned), and is not retried.
func givenUp(outcome string) string {
	switch outcome {
	case reducers.OutcomeNotSent:
		return reducers.OutcomeCanceled
	case reducers.OutcomeUnknown:
		return reducers.OutcomeAbandoned
	}
	return outcome
}

// maybeEject fails bot after EjectAfter consecutive undelivered sends.
func (s *sender) maybeEject(bot, outcome string, emit func(actions.Action)) {
	if outcome != reducers.OutcomeNotSent && outcome != reducers.OutcomeUnknown {
		return
	}
	s.route.Lock() // no pick in between: the next pick sees the ejection
	defer s.route.Unlock()
	b, ok := s.state.Value().Bots.Get(bot)
	if ok && b.Available && b.Failures >= s.cfg.EjectAfter {
		emit(actions.BotFailed.New(actions.ReasonPayload{
			Bot: bot, Reason: fmt.Sprintf("%d consecutive failed sends", s.cfg.EjectAfter)}))
	}
}

func outcomeOf(o puppet.Outcome) string {
	switch o {
	case puppet.Delivered:
		return reducers.OutcomeDelivered
	case puppet.NotSent:
		return reducers.OutcomeNotSent
	case puppet.Permanent:
		return reducers.OutcomePermanent
	}
	return reducers.OutcomeUnknown
}
