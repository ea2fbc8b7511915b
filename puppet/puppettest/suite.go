// Package puppettest is the conformance suite every puppet.Puppet passes:
// the mock world, and each real adapter against its real server.
//
// It runs in real time (a real server cannot run in virtual time) and
// waits on conditions with deadlines, never on sleeps.
//
// # Usage
//
//	func TestConformance(t *testing.T) {
//		puppettest.Run(t, puppettest.Harness{
//			New: func(t *testing.T) puppettest.Subject {
//				// build a fresh puppet and its world
//			},
//			Features: puppettest.Features{PuppetDing: true},
//		})
//	}
package puppettest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// Subject is one puppet under test and handles on its world.
type Subject struct {
	// Puppet is fresh and stopped.
	Puppet puppet.Puppet
	// HeartbeatContact answers "dong" to "ding".
	HeartbeatContact string
	// Room is a room the bot is in; Contact a contact it can reach.
	Room, Contact string
	// Post makes Contact send text to the bot directly (conversation ""),
	// or to Room. Nil when the world cannot be driven (Features.Inbound).
	Post func(conversation, text string) error
	// Delivered reports whether the world received text at to. Nil when
	// the world cannot be observed (Features.Delivery).
	Delivered func(to, text string) bool
}

// Features switches the optional parts of the suite.
type Features struct {
	PuppetDing bool // the puppet implements puppet.Dinger
	Inbound    bool // Subject.Post works
	Delivery   bool // Subject.Delivered works
}

// Harness builds subjects for the suite.
type Harness struct {
	New      func(t *testing.T) Subject
	Features Features
	// Timeout bounds each wait (default 15 s).
	Timeout time.Duration
}

// Run runs the whole suite, one subtest per behaviour.
func Run(t *testing.T, h Harness) {
	if h.Timeout == 0 {
		h.Timeout = 15 * time.Second
	}
	tests := []struct {
		name string
		need bool
		run  func(t *testing.T, h Harness)
	}{
		{"StartLogsIn", true, testStartLogsIn},
		{"SayToContactAndRoom", true, testSay},
		{"SayToUnknownIsPermanent", true, testSayUnknown},
		{"HeartbeatContactAnswersDong", true, testChatDing},
		{"PuppetDing", h.Features.PuppetDing, testPuppetDing},
		{"InboundMessages", h.Features.Inbound, testInbound},
		{"StopLogsOutAndRestartWorks", true, testRestart},
		{"SayWhenStoppedIsNotSent", true, testSayStopped},
		{"ConcurrentSays", true, testConcurrentSay},
		{"CloseClosesEvents", true, testClose},
	}
	for _, tt := range tests {
		if !tt.need {
			continue
		}
		t.Run(tt.name, func(t *testing.T) { tt.run(t, h) })
	}
}

func (h Harness) subject(t *testing.T) Subject {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() { _ = s.Puppet.Close() })
	return s
}

func (h Harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor reads events until match returns true or the wait times out.
func waitFor(t *testing.T, ctx context.Context, p puppet.Puppet, what string, match func(puppet.Event) bool) puppet.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-p.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s before the deadline", what)
		}
	}
}

func started(t *testing.T, h Harness) (Subject, context.Context) {
	t.Helper()
	s := h.subject(t)
	ctx := h.ctx(t)
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "login", func(ev puppet.Event) bool { return ev.Kind == puppet.EventLogin })
	return s, ctx
}

func testStartLogsIn(t *testing.T, h Harness) {
	s := h.subject(t)
	ctx := h.ctx(t)
	if s.Puppet.Name() == "" {
		t.Error("Name is empty")
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ev := waitFor(t, ctx, s.Puppet, "login", func(ev puppet.Event) bool { return ev.Kind == puppet.EventLogin })
	if ev.Self == "" {
		t.Error("login without Self")
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Errorf("Start on a started puppet: %v, want nil", err)
	}
}

func testSay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	for _, to := range []string{s.Contact, s.Room} {
		if err := s.Puppet.Say(ctx, to, "hello "+to); err != nil {
			t.Fatalf("Say to %q: %v", to, err)
		}
		if h.Features.Delivery && !eventually(ctx, func() bool { return s.Delivered(to, "hello "+to) }) {
			t.Errorf("Say to %q returned nil but the world never received it", to)
		}
	}
	rooms, err := s.Puppet.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	found := false
	for _, r := range rooms {
		found = found || r.ID == s.Room
	}
	if !found {
		t.Errorf("Rooms %v lacks %q", rooms, s.Room)
	}
	contacts, err := s.Puppet.Contacts(ctx)
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	found = false
	for _, c := range contacts {
		found = found || c.ID == s.Contact
	}
	if !found {
		t.Errorf("Contacts lacks %q", s.Contact)
	}
}

func testSayUnknown(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	err := s.Puppet.Say(ctx, "no-such-conversation-4711", "x")
	if got := puppet.Classify(err); got != puppet.Permanent {
		t.Errorf("Say to an unknown target: %v (%v), want permanent", err, got)
	}
}

func testChatDing(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Puppet.Say(ctx, s.HeartbeatContact, "ding"); err != nil {
		t.Fatalf("ding: %v", err)
	}
	ev := waitFor(t, ctx, s.Puppet, "dong from the heartbeat contact", func(ev puppet.Event) bool {
		return ev.Kind == puppet.EventMessage && ev.Message != nil && ev.Message.Text == "dong"
	})
	if ev.Message.From != s.HeartbeatContact || ev.Message.Room != "" {
		t.Errorf("dong from %q in room %q, want a direct message from %q", ev.Message.From, ev.Message.Room, s.HeartbeatContact)
	}
}

func testPuppetDing(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	d, ok := s.Puppet.(puppet.Dinger)
	if !ok {
		t.Fatal("Features.PuppetDing set but the puppet is not a puppet.Dinger")
	}
	if err := d.Ding(ctx, "probe-1"); err != nil {
		t.Fatalf("Ding: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "EventDong", func(ev puppet.Event) bool { return ev.Kind == puppet.EventDong })
}

func testInbound(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Post("", "direct hello"); err != nil {
		t.Fatalf("Post: %v", err)
	}
	ev := waitFor(t, ctx, s.Puppet, "the direct message", func(ev puppet.Event) bool {
		return ev.Kind == puppet.EventMessage && ev.Message != nil && ev.Message.Text == "direct hello"
	})
	if ev.Message.ID == "" || ev.Message.From != s.Contact || ev.Message.Conversation() != s.Contact {
		t.Errorf("message %+v: want an ID, from %q", ev.Message, s.Contact)
	}
	if err := s.Post(s.Room, "room hello"); err != nil {
		t.Fatalf("Post to room: %v", err)
	}
	ev = waitFor(t, ctx, s.Puppet, "the room message", func(ev puppet.Event) bool {
		return ev.Kind == puppet.EventMessage && ev.Message != nil && ev.Message.Text == "room hello"
	})
	if ev.Message.Room != s.Room {
		t.Errorf("room message in %q, want %q", ev.Message.Room, s.Room)
	}
}

func testRestart(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "logout", func(ev puppet.Event) bool { return ev.Kind == puppet.EventLogout })
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Errorf("Stop on a stopped puppet: %v, want nil", err)
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "login after restart", func(ev puppet.Event) bool { return ev.Kind == puppet.EventLogin })
	if err := s.Puppet.Say(ctx, s.Contact, "after restart"); err != nil {
		t.Errorf("Say after restart: %v", err)
	}
}

func testSayStopped(t *testing.T, h Harness) {
	s := h.subject(t)
	ctx := h.ctx(t)
	err := s.Puppet.Say(ctx, s.Contact, "x")
	if got := puppet.Classify(err); got != puppet.NotSent {
		t.Errorf("Say on a stopped puppet: %v (%v), want not sent", err, got)
	}
}

func testConcurrentSay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- s.Puppet.Say(ctx, s.Contact, "concurrent") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Say: %v", err)
		}
	}
}

func testClose(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Puppet.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Puppet.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for {
		select {
		case _, ok := <-s.Puppet.Events():
			if !ok {
				if err := s.Puppet.Say(ctx, s.Contact, "x"); err == nil {
					t.Error("Say after Close succeeded")
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("Events not closed after Close")
		}
	}
}

// eventually polls cond until it holds or ctx ends.
func eventually(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
