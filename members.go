package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/store"
)

// member is one bot's puppet: a resource the pool holds, not state.
type member struct {
	p    puppet.Puppet // guarded and tracked: what everyone calls
	name string        // its bot's, as the pool's members index finds it
	raw  puppet.Puppet // guarded only: Remove and Stop stop and close it
	done chan struct{} // closed to stop the pump

	// The calls under way through p, and p itself, live in the member,
	// so that a call through p touches one object, not three: in a pool
	// of thousands of bots each send goes to a bot whose records are not
	// in the cache.
	calls calls
	t     trackedDinger // p points at t, or at t.tracked for a puppet without Dinger
}

// newMember returns the member for a guarded puppet: p counts its calls
// in calls, and keeps its Dinger.
func newMember(pup puppet.Puppet) *member {
	m := &member{raw: pup, done: make(chan struct{})}
	m.calls.init()
	m.t.tracked = tracked{Puppet: pup, c: &m.calls}
	m.p = &m.t.tracked
	if d, ok := pup.(puppet.Dinger); ok {
		m.t.d = d
		m.p = &m.t
	}
	return m
}

// puppet is epics.Deps.Puppet: it takes no lock (memberIndex).
func (p *Pool) puppet(bot string) (puppet.Puppet, bool) {
	if m := p.index.get(bot); m != nil {
		return m.p, true
	}
	return nil, false
}

// puppetAt is epics.Deps.PuppetAt: pos is where the state has the bot.
// It takes no lock when the index has learned the bot there; else it
// finds the bot by name and learns it there.
func (p *Pool) puppetAt(bot string, pos int) (puppet.Puppet, bool) {
	if m := p.index.getAt(bot, pos); m != nil {
		return m.p, true
	}
	m := p.index.get(bot)
	if m == nil {
		return nil, false
	}
	if pos >= 0 {
		p.mu.Lock()
		p.index.learn(pos, m)
		p.mu.Unlock()
	}
	return m.p, true
}

// dropLocked takes the bot named name out of the pool's members and
// returns its member. The caller holds p.mu.
func (p *Pool) dropLocked(name string) (*member, bool) {
	m, ok := p.bots[name]
	if ok {
		delete(p.bots, name)
		p.index.drop(name)
	}
	return m, ok
}

func (p *Pool) membersLocked() map[string]*member { return maps.Clone(p.bots) }

// Add puts a puppet in the pool under its Name, guarded (puppet.Guard): a
// panic in one of its methods becomes that call's error. In a started pool
// the puppet is started at once and its start error is returned; the bot
// stays in the pool and is reset like any failed bot. Add returns by
// ctx's end even when the puppet's Start ignores its context (the start
// goes on in the background). When Add fails for any other reason the
// bot is not in the pool (the name can be added again), and a stopped
// pool refuses it with ErrStopped.
func (p *Pool) Add(ctx context.Context, pup puppet.Puppet) error {
	if pup == nil {
		return errors.New("hawechaty: Add(nil)")
	}
	pup = puppet.Guard(pup)
	name := pup.Name()
	if name == "" {
		return errors.New("hawechaty: Add: the puppet has an empty Name")
	}
	if p.cl != nil {
		return p.cl.register(pup) // driven while this process holds its lease
	}
	m := newMember(pup)
	// The puppet and its bot's record change together: an Add racing a
	// Remove of the same name leaves both or neither.
	p.roster.Lock()
	started, err := p.claim(name, m)
	if err != nil {
		p.roster.Unlock()
		return err
	}
	err = p.st.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: name, Puppet: kindOf(name), NoMedia: puppet.CannotSend(pup)}).WithSource("pool"))
	if err != nil {
		p.mu.Lock()
		p.dropLocked(name)
		p.mu.Unlock()
		p.roster.Unlock()
		if errors.Is(err, store.ErrStopped) {
			err = ErrStopped
		}
		return fmt.Errorf("hawechaty: add %q: %w", name, err)
	}
	p.wg.Add(1)
	p.roster.Unlock()
	go p.pump(name, m)
	if started {
		if err := callBounded(ctx, func(ctx context.Context) error { return m.p.Start(ctx) }); err != nil {
			return fmt.Errorf("hawechaty: start %q: %w", name, err)
		}
	}
	return nil
}

// claim puts m in the pool under name, unless the pool is stopped or the
// name is taken. The caller holds p.roster. started reports whether the
// pool was starting or running then.
func (p *Pool) claim(name string, m *member) (started bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.state == stopped:
		return false, ErrStopped
	case p.bots[name] != nil:
		return false, fmt.Errorf("%w: %q", ErrDuplicateBot, name)
	}
	m.name = name
	p.bots[name] = m
	p.index.put(m)
	return p.state == starting || p.state == running, nil
}

func kindOf(name string) string {
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		return name[:i]
	}
	return name
}

// Remove takes a bot out of the pool: no send is routed to it any more,
// and its puppet is stopped and closed. (HAWechaty never implemented
// this.) Remove returns by ctx's end even when the puppet ignores its
// context; the stop goes on in the background, bounded by 30 s a step.
func (p *Pool) Remove(ctx context.Context, name string) error {
	if p.cl != nil {
		return errors.New("hawechaty: Remove in a cluster: not supported (stop the process, or hand the bot over: Cluster().Handover)")
	}
	p.roster.Lock()
	p.mu.Lock()
	m, ok := p.dropLocked(name)
	p.mu.Unlock()
	if !ok {
		p.roster.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownBot, name)
	}
	var errs []error
	if err := p.st.dispatch(actions.BotRemoved.New(actions.BotPayload{Bot: name}).WithSource("pool")); err != nil && !errors.Is(err, store.ErrStopped) {
		errs = append(errs, err)
	}
	p.roster.Unlock()
	close(m.done)
	base := context.WithoutCancel(ctx)
	if err := callBounded(ctx, func(context.Context) error { return stopMember(base, m) }); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hawechaty: remove %q: %w", name, err)
	}
	return nil
}

// stopMember waits for the calls under way into a removed puppet, then
// stops and closes it, each step bounded by base and by stopTimeout of its
// own, so that a slow bot does not eat the next one's time.
func stopMember(base context.Context, m *member) error {
	var errs []error
	ctx, cancel := context.WithTimeout(base, stopTimeout)
	if err := m.calls.drain(ctx); err != nil {
		errs = append(errs, err)
	}
	cancel()
	ctx, cancel = context.WithTimeout(base, stopTimeout)
	if err := m.raw.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop: %w", err))
	}
	cancel()
	if err := m.raw.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close: %w", err))
	}
	return errors.Join(errs...)
}

// pump turns one puppet's events into actions (Translate) and dispatches
// them.
func (p *Pool) pump(name string, m *member) {
	defer p.wg.Done()
	src := "puppet/" + name
	for {
		var ev puppet.Event
		var ok bool
		select {
		case ev, ok = <-m.p.Events():
		case <-m.done:
			return
		}
		if !ok {
			return
		}
		if ev.Kind == puppet.EventError {
			p.log.Warn("hawechaty: puppet error", "bot", name, "err", ev.Err)
			continue
		}
		a, ok := Translate(name, ev, p.cfg.ha.HeartbeatContact)
		if !ok {
			continue
		}
		p.mu.Lock()
		current := p.bots[name] == m
		p.mu.Unlock()
		if !current {
			// Removed (its Stop's logout is on its way): its events are
			// no longer the pool's, and a bot added again under its name
			// must not get them.
			return
		}
		if err := p.st.dispatch(a.WithSource(src)); err != nil && !errors.Is(err, store.ErrStopped) {
			p.log.Warn("hawechaty: event refused", "bot", name, "type", a.Type, "err", err)
		}
	}
}

// Translate turns a puppet's event into the pool's action: a pure
// function of the bot's name, the event and the heartbeat contact. It
// reports false for events that are not actions (errors, which the pool
// logs, and empty messages). A direct "dong" from the heartbeat contact
// is a Dong, not a message.
func Translate(bot string, ev puppet.Event, heartbeatContact string) (actions.Action, bool) {
	switch ev.Kind {
	case puppet.EventLogin:
		return actions.Login.New(actions.LoginPayload{Bot: bot, Self: ev.Self}), true
	case puppet.EventLogout:
		reason := ev.Data
		if reason == "" {
			reason = "logged out"
		}
		return actions.Logout.New(actions.ReasonPayload{Bot: bot, Reason: reason}), true
	case puppet.EventScan:
		status := ev.Scan
		if status == puppet.ScanUnknown && ev.Data != "" {
			status = puppet.ScanWaiting // a code to scan: it waits
		}
		return actions.Scan.New(actions.ScanPayload{Bot: bot, Status: status, QR: actions.NewQR(ev.Data)}), true
	case puppet.EventDong:
		return actions.Dong.New(actions.BotPayload{Bot: bot}), true
	case puppet.EventHeartbeat:
		return actions.Heartbeat.New(actions.BotPayload{Bot: bot}), true
	case puppet.EventFriendAdded, puppet.EventFriendRemoved:
		if ev.Data == "" {
			return actions.Action{}, false
		}
		if ev.Kind == puppet.EventFriendAdded {
			return actions.ContactAdded.New(actions.ContactPayload{Bot: bot, Contact: ev.Data}), true
		}
		return actions.ContactRemoved.New(actions.ContactPayload{Bot: bot, Contact: ev.Data}), true
	case puppet.EventMessage:
		msg := ev.Message
		if msg == nil {
			return actions.Action{}, false
		}
		if msg.From == heartbeatContact && msg.Room == "" && msg.Text == "dong" {
			return actions.Dong.New(actions.BotPayload{Bot: bot}), true
		}
		return actions.Message.New(actions.MessagePayload{Bot: bot, MessageID: msg.ID, From: msg.From, Room: msg.Room, Text: msg.Text, Time: msg.Time, Kind: msg.Kind}), true
	}
	return actions.Action{}, false
}
