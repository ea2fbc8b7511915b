package puppettest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// Subject is one puppet under test and handles on its world.
type Subject struct {
	// Puppet is fresh and stopped. The suite closes it when the check
	// ends; the harness cleans up the rest of the world with t.Cleanup.
	Puppet puppet.Puppet
	// HeartbeatContact answers "dong" to "ding" with a direct message.
	HeartbeatContact string
	// Room is a room the bot is in; Contact a contact it can reach, also a
	// member of Room.
	Room, Contact string
	// Post makes Contact send text to the bot directly (conversation "")
	// or to Room. Used when Features.Inbound is set.
	Post func(conversation, text string) error
	// Delivered reports whether the world has received text at to (a room
	// or contact ID). Used when Features.Delivery is set.
	Delivered func(to, text string) bool
	// Hang makes the world stop answering: from then on a Say blocks
	// until its context ends. Used when Features.Hang is set.
	Hang func()

	// PostMedia makes Contact send media to the bot directly
	// (conversation "") or to Room. Used when Features.InboundMedia is set.
	PostMedia func(conversation string, m puppet.Media) error
	// DeliveredMedia reports whether the world has received media like m
	// at to: for a file, its name and bytes. Used when Features.SendMedia
	// and Features.Delivery are set.
	DeliveredMedia func(to string, m puppet.Media) bool
}

// Features switches the optional parts of the suite.
type Features struct {
	PuppetDing bool // the puppet implements puppet.Dinger
	Inbound    bool // Subject.Post works
	Delivery   bool // Subject.Delivered works
	Hang       bool // Subject.Hang works
	TrySay     bool // the puppet implements puppet.TrySayer

	// SendMedia lists the kinds the puppet sends (MediaImage, MediaFile,
	// MediaURL, MediaContact) through its capabilities.
	SendMedia []puppet.MediaKind
	// InboundMedia lists the kinds of Subject.PostMedia that the puppet
	// reports (Message.Kind) and fetches (puppet.MediaFetcher).
	InboundMedia []puppet.MediaKind
}

// Harness builds subjects for the suite.
type Harness struct {
	// New builds a fresh Subject for one check. It fails t if it cannot.
	New func(t *testing.T) Subject
	// Features switches the optional checks.
	Features Features
	// Timeout bounds each check's waits (default 15 s).
	Timeout time.Duration
}

// check is one behaviour of the suite.
type check struct {
	name string
	need bool
	run  func(t *testing.T, h Harness)
}

// checks lists the suite's checks, in the order they run.
func checks(f Features) []check {
	return []check{
		{"StartLogsIn", true, testStartLogsIn},
		{"SayToContactAndRoom", true, testSay},
		{"SayToUnknownIsPermanent", true, testSayUnknown},
		{"HeartbeatContactAnswersDong", true, testChatDing},
		{"PuppetDing", f.PuppetDing, testPuppetDing},
		{"InboundMessages", f.Inbound, testInbound},
		{"SlowReaderLosesNothing", f.Inbound, testSlowReader},
		{"StopLogsOutAndRestartWorks", true, testRestart},
		{"SayWhenStoppedIsNotSent", true, testSayStopped},
		{"ConcurrentSays", true, testConcurrentSay},
		{"DoneContextIsRespected", true, testDoneContext},
		{"DeadlineEndsAHungSay", f.Hang, testHungSay},
		{"TrySayAnswersAtOnceOrNotAtAll", f.TrySay, testTrySay},
		{"SendMedia", len(f.SendMedia) > 0, testSendMedia},
		{"SendMediaWhenStoppedIsNotSent", len(f.SendMedia) > 0, testSendMediaStopped},
		{"InboundMedia", len(f.InboundMedia) > 0, testInboundMedia},
		{"CloseClosesEvents", true, testClose},
	}
}

// Checks returns the names of the subtests Run runs with features f, in
// order. Some checks do more when a feature is on (Delivery makes every
// send check that the world received it).
func Checks(f Features) []string {
	var out []string
	for _, c := range checks(f) {
		if c.need {
			out = append(out, c.name)
		}
	}
	return out
}

// Run runs the whole suite, one subtest per behaviour (see the package
// documentation and Checks). Checks whose feature is off are left out, not
// skipped.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("puppettest: Harness.New is nil")
	}
	if h.Timeout <= 0 {
		h.Timeout = 15 * time.Second
	}
	for _, c := range checks(h.Features) {
		if c.need {
			t.Run(c.name, func(t *testing.T) { c.run(t, h) })
		}
	}
}

// subject builds a fresh subject and checks the handles its features need.
func (h Harness) subject(t *testing.T) Subject {
	t.Helper()
	s := h.New(t)
	if s.Puppet == nil {
		t.Fatal("puppettest: Harness.New returned no Puppet")
	}
	t.Cleanup(func() { _ = s.Puppet.Close() })
	f := h.Features
	switch {
	case s.HeartbeatContact == "" || s.Room == "" || s.Contact == "":
		t.Fatalf("puppettest: Subject needs HeartbeatContact, Room and Contact, got %q, %q, %q", s.HeartbeatContact, s.Room, s.Contact)
	case f.Inbound && s.Post == nil:
		t.Fatal("puppettest: Features.Inbound is set but Subject.Post is nil")
	case f.Delivery && s.Delivered == nil:
		t.Fatal("puppettest: Features.Delivery is set but Subject.Delivered is nil")
	case f.Hang && s.Hang == nil:
		t.Fatal("puppettest: Features.Hang is set but Subject.Hang is nil")
	case len(f.InboundMedia) > 0 && s.PostMedia == nil:
		t.Fatal("puppettest: Features.InboundMedia is set but Subject.PostMedia is nil")
	case len(f.SendMedia) > 0 && f.Delivery && s.DeliveredMedia == nil:
		t.Fatal("puppettest: Features.SendMedia and Delivery are set but Subject.DeliveredMedia is nil")
	}
	return s
}

// ctx bounds one check.
func (h Harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// started returns a subject that is started and logged in.
func started(t *testing.T, h Harness) (Subject, context.Context) {
	t.Helper()
	s := h.subject(t)
	ctx := h.ctx(t)
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "EventLogin", isKind(puppet.EventLogin))
	return s, ctx
}

// waitFor reads events until match holds, failing at ctx's deadline or if
// Events closes.
func waitFor(t *testing.T, ctx context.Context, p puppet.Puppet, what string, match func(puppet.Event) bool) puppet.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-p.Events():
			if !ok {
				t.Fatalf("Events closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s before the deadline", what)
		}
	}
}

func isKind(k puppet.EventKind) func(puppet.Event) bool {
	return func(ev puppet.Event) bool { return ev.Kind == k }
}

func isText(text string) func(puppet.Event) bool {
	return func(ev puppet.Event) bool {
		return ev.Kind == puppet.EventMessage && ev.Message != nil && ev.Message.Text == text
	}
}

// eventually polls cond until it holds or ctx ends. It is for the world's
// Delivered, which has no event to wait on.
func eventually(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(5 * time.Millisecond)
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

// within runs f and fails t if it does not return before ctx ends: a call
// that hangs becomes a clear failure instead of a stuck test.
func within(t *testing.T, ctx context.Context, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("%s did not return before the deadline", what)
	}
}

func testStartLogsIn(t *testing.T, h Harness) {
	s := h.subject(t)
	ctx := h.ctx(t)
	if s.Puppet.Name() == "" {
		t.Error("Name is empty")
	}
	ch := s.Puppet.Events()
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ev := waitFor(t, ctx, s.Puppet, "EventLogin", isKind(puppet.EventLogin))
	if ev.Self == "" {
		t.Error("EventLogin without Self")
	}
	if ev.Time.IsZero() {
		t.Error("EventLogin without Time")
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Errorf("Start on a started puppet: %v, want nil", err)
	}
	if s.Puppet.Events() != ch {
		t.Error("Events returned another channel after Start")
	}
}

func testSay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	for _, to := range []string{s.Contact, s.Room} {
		text := "hello " + to
		if err := s.Puppet.Say(ctx, to, text); err != nil {
			t.Fatalf("Say to %q: %v", to, err)
		}
		if h.Features.Delivery && !eventually(ctx, func() bool { return s.Delivered(to, text) }) {
			t.Errorf("Say to %q returned nil but the world never received it", to)
		}
	}
	rooms, err := s.Puppet.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if !hasRoom(rooms, s.Room) {
		t.Errorf("Rooms %v lacks %q", rooms, s.Room)
	}
	contacts, err := s.Puppet.Contacts(ctx)
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	for _, id := range []string{s.Contact, s.HeartbeatContact} {
		if !hasContact(contacts, id) {
			t.Errorf("Contacts %v lacks %q", contacts, id)
		}
	}
}

func hasRoom(rooms []puppet.Room, id string) bool {
	for _, r := range rooms {
		if r.ID == id {
			return true
		}
	}
	return false
}

func hasContact(contacts []puppet.Contact, id string) bool {
	for _, c := range contacts {
		if c.ID == id {
			return true
		}
	}
	return false
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
	ev := waitFor(t, ctx, s.Puppet, `"dong"`, isText("dong"))
	m := ev.Message
	if m.From != s.HeartbeatContact || m.Room != "" || m.Conversation() != s.HeartbeatContact {
		t.Errorf("dong from %q in room %q, want a direct message from %q", m.From, m.Room, s.HeartbeatContact)
	}
	if m.ID == "" {
		t.Error("dong without a message ID")
	}
}

func testPuppetDing(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	d, ok := s.Puppet.(puppet.Dinger)
	if !ok {
		t.Fatalf("Features.PuppetDing is set but %T is not a puppet.Dinger", s.Puppet)
	}
	if err := d.Ding(ctx, "probe-1"); err != nil {
		t.Fatalf("Ding: %v", err)
	}
	ev := waitFor(t, ctx, s.Puppet, "EventDong", isKind(puppet.EventDong))
	if ev.Data != "probe-1" {
		t.Errorf("EventDong data %q, want the ding's %q", ev.Data, "probe-1")
	}
}

func testInbound(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if err := s.Post("", "direct hello"); err != nil {
		t.Fatalf("Post: %v", err)
	}
	direct := waitFor(t, ctx, s.Puppet, "the direct message", isText("direct hello")).Message
	if direct.ID == "" || direct.From != s.Contact || direct.Room != "" || direct.Conversation() != s.Contact {
		t.Errorf("direct message %+v: want an ID, from %q, no room", direct, s.Contact)
	}
	if err := s.Post(s.Room, "room hello"); err != nil {
		t.Fatalf("Post to room: %v", err)
	}
	inRoom := waitFor(t, ctx, s.Puppet, "the room message", isText("room hello")).Message
	if inRoom.Room != s.Room || inRoom.From != s.Contact || inRoom.Conversation() != s.Room {
		t.Errorf("room message %+v: want room %q, from %q", inRoom, s.Room, s.Contact)
	}
	if inRoom.ID == "" || inRoom.ID == direct.ID {
		t.Errorf("message IDs %q and %q: want two distinct IDs", direct.ID, inRoom.ID)
	}
}

// slowReaderHold is how long testSlowReader's reader stays away from
// Events after the burst. It is the slowness under test (a consumer busy
// elsewhere), not a wait for a condition: the puppet gets that long to
// lose what it cannot hold.
const slowReaderHold = 100 * time.Millisecond

// testSlowReader posts a burst while nobody reads Events, stays away a
// while, then reads: a puppet must not lose events silently (EventError
// telling of a loss is not silent, but still fails this check).
func testSlowReader(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	const n = 50
	want := map[string]bool{}
	for i := range n {
		text := fmt.Sprintf("burst %d", i)
		want[text] = true
		if err := s.Post("", text); err != nil {
			t.Fatalf("Post %q: %v", text, err)
		}
	}
	busy := time.NewTimer(slowReaderHold)
	select {
	case <-busy.C:
	case <-ctx.Done():
		busy.Stop()
		t.Fatal("deadline during the burst")
	}
	ids := map[string]bool{}
	for len(want) > 0 {
		ev := waitFor(t, ctx, s.Puppet, fmt.Sprintf("%d more burst messages", len(want)), func(ev puppet.Event) bool {
			return ev.Kind == puppet.EventError || ev.Kind == puppet.EventMessage && ev.Message != nil && want[ev.Message.Text]
		})
		if ev.Kind == puppet.EventError {
			t.Fatalf("EventError during a burst of %d messages: %v", n, ev.Err)
		}
		delete(want, ev.Message.Text)
		if ids[ev.Message.ID] {
			t.Errorf("message ID %q seen twice", ev.Message.ID)
		}
		ids[ev.Message.ID] = true
	}
}

func testRestart(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	ch := s.Puppet.Events()
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "EventLogout", isKind(puppet.EventLogout))
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Errorf("Stop on a stopped puppet: %v, want nil", err)
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if s.Puppet.Events() != ch {
		t.Fatal("Events returned another channel after a restart")
	}
	waitFor(t, ctx, s.Puppet, "EventLogin after the restart", isKind(puppet.EventLogin))
	if err := s.Puppet.Say(ctx, s.Contact, "after restart"); err != nil {
		t.Errorf("Say after restart: %v", err)
	}
	if h.Features.Delivery && !eventually(ctx, func() bool { return s.Delivered(s.Contact, "after restart") }) {
		t.Error("Say after restart returned nil but the world never received it")
	}
	if h.Features.Inbound {
		if err := s.Post("", "welcome back"); err != nil {
			t.Fatalf("Post: %v", err)
		}
		waitFor(t, ctx, s.Puppet, "a message after the restart", isText("welcome back"))
	}
}

func testSayStopped(t *testing.T, h Harness) {
	s := h.subject(t)
	ctx := h.ctx(t)
	err := s.Puppet.Say(ctx, s.Contact, "never started")
	if got := puppet.Classify(err); got != puppet.NotSent {
		t.Errorf("Say on a puppet never started: %v (%v), want not sent", err, got)
	}
	if err := s.Puppet.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitFor(t, ctx, s.Puppet, "EventLogin", isKind(puppet.EventLogin))
	if err := s.Puppet.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	err = s.Puppet.Say(ctx, s.Contact, "stopped")
	if got := puppet.Classify(err); got != puppet.NotSent {
		t.Errorf("Say on a stopped puppet: %v (%v), want not sent", err, got)
	}
}

func testConcurrentSay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.Puppet.Say(ctx, s.Contact, fmt.Sprintf("concurrent %d", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Say %d: %v", i, err)
			continue
		}
		text := fmt.Sprintf("concurrent %d", i)
		if h.Features.Delivery && !eventually(ctx, func() bool { return s.Delivered(s.Contact, text) }) {
			t.Errorf("concurrent Say %d returned nil but the world never received it", i)
		}
	}
}

func testDoneContext(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	done, cancel := context.WithCancel(ctx)
	cancel()
	var err error
	within(t, ctx, "Say with a canceled context", func() { err = s.Puppet.Say(done, s.Contact, "canceled") })
	switch got := puppet.Classify(err); got {
	case puppet.NotSent, puppet.OutcomeUnknown:
	default:
		t.Errorf("Say with a canceled context: %v (%v), want not sent or outcome unknown", err, got)
	}
	if h.Features.PuppetDing {
		within(t, ctx, "Ding with a canceled context", func() { err = s.Puppet.(puppet.Dinger).Ding(done, "canceled") })
		if err == nil {
			t.Error("Ding with a canceled context returned nil")
		}
	}
	if !h.Features.Delivery {
		return
	}
	// Messages from one bot to one contact arrive in order: once the next
	// one is there, the canceled one would have been too.
	if err := s.Puppet.Say(ctx, s.Contact, "after cancel"); err != nil {
		t.Fatalf("Say: %v", err)
	}
	if !eventually(ctx, func() bool { return s.Delivered(s.Contact, "after cancel") }) {
		t.Fatal("Say returned nil but the world never received it")
	}
	if s.Delivered(s.Contact, "canceled") {
		t.Error("Say with a canceled context was delivered")
	}
}

func testHungSay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	s.Hang()
	const wait = 200 * time.Millisecond
	short, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var err error
	within(t, ctx, "a hung Say with a deadline", func() { err = s.Puppet.Say(short, s.Contact, "into the void") })
	// Asking the context, not the clock: a hung Say ends only once its
	// deadline has passed.
	if short.Err() == nil {
		t.Errorf("a hung Say returned before its %v deadline: %v", wait, err)
	}
	if got := puppet.Classify(err); got != puppet.OutcomeUnknown {
		t.Errorf("a hung Say: %v (%v), want outcome unknown", err, got)
	}
}

// wrapped embeds a puppet and would have a Say of its own: the TrySay
// it inherits must not answer for it.
type wrapped struct{ puppet.Puppet }

// TrySay is the embedded puppet's, called as Go calls a promoted method
// (an interface field promotes none): with the wrapper as self.
func (w wrapped) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	return w.Puppet.(puppet.TrySayer).TrySay(self, to, text)
}

func testTrySay(t *testing.T, h Harness) {
	s, ctx := started(t, h)
	if _, ok := s.Puppet.(puppet.TrySayer); !ok {
		t.Fatalf("Features.TrySay is set but %T is no puppet.TrySayer", s.Puppet)
	}
	try := func(p puppet.Puppet, to, text string) (done bool, err error) {
		t.Helper()
		within(t, ctx, "TrySay", func() { done, err = puppet.TrySay(p, to, text) })
		return done, err
	}
	// When TrySay answers, the answer is Say's.
	for _, to := range []string{s.Contact, s.Room} {
		text := "try " + to
		done, err := try(s.Puppet, to, text)
		if !done {
			continue // it may always leave the send to Say
		}
		if err != nil {
			t.Errorf("TrySay to %q: %v", to, err)
		} else if h.Features.Delivery && !eventually(ctx, func() bool { return s.Delivered(to, text) }) {
			t.Errorf("TrySay to %q reported done but the world never received it", to)
		}
	}
	if done, err := try(s.Puppet, "puppettest-nobody", "x"); done && puppet.Classify(err) != puppet.Permanent {
		t.Errorf("TrySay to an unknown target: %v (%v), want permanent", err, puppet.Classify(err))
	}
	if done, err := try(wrapped{s.Puppet}, s.Contact, "through a wrapper"); done {
		t.Errorf("TrySay answered for a type that embeds the puppet (%v): it would bypass that type's Say", err)
	}
	if !h.Features.Hang {
		return
	}
	// A hung world makes Say wait: TrySay must not, and must send nothing.
	s.Hang()
	done, err := try(s.Puppet, s.Contact, "not now")
	if done && puppet.Classify(err) == puppet.Delivered {
		t.Error("TrySay reported a send delivered through a hung world")
	}
	if !done && h.Features.Delivery && s.Delivered(s.Contact, "not now") {
		t.Error("TrySay reported done false but the world received the text")
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
	for closed := false; !closed; {
		select {
		case _, ok := <-s.Puppet.Events():
			closed = !ok
		case <-ctx.Done():
			t.Fatal("Events not closed after Close")
		}
	}
	if err := s.Puppet.Say(ctx, s.Contact, "after close"); puppet.Classify(err) != puppet.NotSent {
		t.Errorf("Say after Close: %v, want not sent", err)
	}
	if err := s.Puppet.Start(ctx); err == nil {
		t.Error("Start after Close returned nil")
	}
}
