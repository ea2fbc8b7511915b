package hawechaty_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// TestScenarios runs the stories in testdata/scenarios: each drives a real
// Pool over the mock world in virtual time, and prints what the pool did
// (the actions, with the decisions the reducer marked in the state) and
// what the callers got. Regenerate the expectations with
//
//	go test -run TestScenarios -rewrite .
//
// and commit them only when you understand what changed.
//
// Commands (arguments in brackets are optional):
//
//	world [bots=N] [heartbeat=D] [scan=(bot,…)] [login-delay=D]
//	                      a world with alice, carol and bot-1 … bot-N
//	room id=R members=(…) a room in the world
//	pool [bots=N] [heartbeat=D] [send-timeout=D] [eject-after=N] [fail-after=D]
//	     [ding-after=D] [scan-timeout=D] [wait-for-bot] [affinity]
//	                      a pool of every bot of the world (made by bots= if
//	                      none yet), started
//	die|kill|revive|logout|clear BOT     faults of the mock world
//	fail-sends BOT [off] · hang BOT [delivered] · latency BOT d=D
//	fail-start BOT n=N · slow-start BOT d=D · drop-inbound BOT [off]
//	flap BOT period=D · join|leave room=R who=BOT
//	post from=C to=R|BOT text=T          someone writes
//	advance D                            virtual time passes
//	say to=T text=X [timeout=D] [async]  a Say (async: collected by wait or stop)
//	wait                                 the async Says' results
//	add BOT · remove BOT [timeout=D]     the pool's roster
//	jump init|empty|back [n=N]           Store().Replace with the state of
//	                                     @@store/INIT, reducers.Pool{}, or the
//	                                     state N changes back (default 1)
//	stop [timeout=D]                     Stop, then the async Says' results
//	state · health · messages · delivered
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		synctest.Test(t, func(t *testing.T) {
			h := &harness{t: t, bots: map[string]*mock.Bot{}}
			defer h.close()
			datadriven.RunTest(t, path, h.run)
		})
	})
}

// harness is one story's world and pool.
type harness struct {
	t     *testing.T
	world *mock.World
	bots  map[string]*mock.Bot
	order []string // bots in the order the world made them
	pool  *hawechaty.Pool
	sub   *store.Subscription[reducers.Pool]
	start time.Time

	history []reducers.Pool // every state the store held since the pool was made
	initAt  int             // the index in history of @@store/INIT's state
	prev    reducers.Pool   // the state before the change being told

	pending   []*pendingSay
	delivered int // deliveries of the world already told
	stopped   bool
}

type pendingSay struct {
	text string
	done chan struct{}
	r    hawechaty.Receipt
	err  error
}

func (h *harness) run(t *testing.T, td *datadriven.TestData) string {
	h.t = t
	var out []string
	switch td.Cmd {
	case "world":
		h.newWorld(t, td)
		return "ok"
	case "room":
		var id string
		var members []string
		td.ScanArgs(t, "id", &id)
		td.ScanArgs(t, "members", &members)
		h.check(t, h.world.AddRoom(id, id, members...))
		return "ok"
	case "pool":
		h.newPool(t, td)
	case "die", "kill", "revive", "logout", "clear", "fail-sends", "hang", "latency", "fail-start", "slow-start", "drop-inbound", "flap":
		h.fault(t, td)
	case "join", "leave":
		var room, who string
		td.ScanArgs(t, "room", &room)
		td.ScanArgs(t, "who", &who)
		if td.Cmd == "join" {
			h.check(t, h.world.Join(room, who))
		} else {
			h.check(t, h.world.Leave(room, who))
		}
	case "post":
		var from, to, text string
		td.ScanArgs(t, "from", &from)
		td.ScanArgs(t, "to", &to)
		td.ScanArgs(t, "text", &text)
		_, err := h.world.Post(from, to, text)
		h.check(t, err)
	case "advance":
		if len(td.CmdArgs) != 1 {
			td.Fatalf(t, "advance D")
		}
		time.Sleep(h.duration(t, td.CmdArgs[0].Key))
	case "say":
		p := h.say(t, td)
		if !td.HasArg("async") {
			<-p.done
			h.pending = slices.DeleteFunc(h.pending, func(x *pendingSay) bool { return x == p })
			synctest.Wait()
			out = append(out, p.describe())
		}
	case "wait":
		out = append(out, h.collect()...)
	case "add":
		name := h.botArg(t, td)
		b, err := h.world.AddBot(name)
		h.check(t, err)
		if _, known := h.bots[name]; !known {
			h.order = append(h.order, name)
		}
		h.bots[name] = b
		if err := h.pool.Add(t.Context(), b); err != nil {
			out = append(out, "add: "+err.Error())
		}
	case "remove":
		ctx, cancel := h.context(t, td)
		err := h.pool.Remove(ctx, h.botArg(t, td))
		cancel()
		if err != nil {
			out = append(out, "remove: "+err.Error())
		}
	case "jump":
		h.jump(t, td)
	case "stop":
		ctx, cancel := h.context(t, td)
		err := h.pool.Stop(ctx)
		cancel()
		h.stopped = true
		synctest.Wait()
		if err != nil {
			out = append(out, "stop: "+err.Error())
		} else {
			out = append(out, "stopped")
		}
		out = append(out, h.collect()...)
	case "state":
		return h.describeState()
	case "health":
		hl := h.pool.Health()
		return fmt.Sprintf("total=%d available=%d down=%v failed=%v", hl.Total, hl.Available, hl.Down, hl.Failed)
	case "messages":
		return h.messages()
	case "delivered":
		return h.deliveries()
	default:
		td.Fatalf(t, "unknown command %q", td.Cmd)
	}
	synctest.Wait()
	story := h.story()
	out = append([]string{story}, out...)
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	if len(out) == 0 {
		return "(nothing)"
	}
	return strings.Join(out, "\n")
}

func (h *harness) check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) duration(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("bad duration %q: %v", s, err)
	}
	return d
}

func (h *harness) durationArg(t *testing.T, td *datadriven.TestData, key string) (time.Duration, bool) {
	if !td.HasArg(key) {
		return 0, false
	}
	var s string
	td.ScanArgs(t, key, &s)
	return h.duration(t, s), true
}

// botArg is the first argument, a bot's name.
func (h *harness) botArg(t *testing.T, td *datadriven.TestData) string {
	if len(td.CmdArgs) == 0 || len(td.CmdArgs[0].Vals) > 0 {
		td.Fatalf(t, "%s BOT", td.Cmd)
	}
	return td.CmdArgs[0].Key
}

// context is the command's context: bounded by timeout= if given.
func (h *harness) context(t *testing.T, td *datadriven.TestData) (context.Context, context.CancelFunc) {
	if d, ok := h.durationArg(t, td, "timeout"); ok {
		return context.WithTimeout(t.Context(), d)
	}
	return context.WithCancel(t.Context())
}

func (h *harness) newWorld(t *testing.T, td *datadriven.TestData) {
	if h.world != nil {
		td.Fatalf(t, "one world per story")
	}
	h.world = mock.NewWorld(mock.WithSeed(1))
	h.check(t, h.world.AddContact("alice", "Alice"))
	h.check(t, h.world.AddContact("carol", "Carol"))
	n := 0
	if td.HasArg("bots") {
		td.ScanArgs(t, "bots", &n)
	}
	var scans []string
	if td.HasArg("scan") {
		td.ScanArgs(t, "scan", &scans)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("bot-%d", i)
		var opts []mock.BotOption
		if d, ok := h.durationArg(t, td, "heartbeat"); ok {
			opts = append(opts, mock.WithHeartbeat(d))
		}
		if slices.Contains(scans, name) {
			opts = append(opts, mock.WithScan("qr-"+name))
			if d, ok := h.durationArg(t, td, "login-delay"); ok {
				opts = append(opts, mock.WithLoginDelay(d))
			}
		}
		b, err := h.world.AddBot(name, opts...)
		h.check(t, err)
		h.bots[name] = b
		h.order = append(h.order, name)
	}
}

func (h *harness) newPool(t *testing.T, td *datadriven.TestData) {
	if h.world == nil {
		h.newWorld(t, td)
	}
	opts := []hawechaty.Option{hawechaty.WithSeed(1)}
	durations := map[string]func(time.Duration) hawechaty.Option{
		"send-timeout": hawechaty.WithSendTimeout,
		"fail-after":   hawechaty.WithFailAfter,
		"ding-after":   hawechaty.WithDingAfter,
		"scan-timeout": hawechaty.WithScanTimeout,
	}
	for key, opt := range durations {
		if d, ok := h.durationArg(t, td, key); ok {
			opts = append(opts, opt(d))
		}
	}
	if td.HasArg("eject-after") {
		var n int
		td.ScanArgs(t, "eject-after", &n)
		opts = append(opts, hawechaty.WithEjectAfter(n))
	}
	if td.HasArg("wait-for-bot") {
		opts = append(opts, hawechaty.WithWaitForBot())
	}
	if td.HasArg("affinity") {
		opts = append(opts, hawechaty.WithAffinity())
	}
	pool, err := hawechaty.New(opts...)
	h.check(t, err)
	h.pool = pool
	h.sub = pool.Store().Subscribe(1 << 16)
	h.history = []reducers.Pool{pool.State()}
	h.start = time.Now()
	for _, name := range h.order {
		h.check(t, pool.Add(t.Context(), h.bots[name]))
	}
	if err := pool.Start(t.Context()); err != nil {
		t.Logf("start: %v", err) // the story tells it
	}
}

func (h *harness) fault(t *testing.T, td *datadriven.TestData) {
	name := h.botArg(t, td)
	b := h.bots[name]
	if b == nil {
		td.Fatalf(t, "no bot %q", name)
	}
	on := !td.HasArg("off")
	switch td.Cmd {
	case "die":
		b.Die()
	case "kill":
		b.Kill()
	case "revive":
		b.Revive()
	case "logout":
		b.LogOut()
	case "clear":
		b.ClearFaults()
	case "fail-sends":
		b.FailSends(on)
	case "hang":
		b.Hang(td.HasArg("delivered"))
	case "drop-inbound":
		b.DropInbound(on)
	case "latency", "slow-start":
		d, ok := h.durationArg(t, td, "d")
		if !ok {
			td.Fatalf(t, "%s BOT d=D", td.Cmd)
		}
		if td.Cmd == "latency" {
			b.SetLatency(d)
		} else {
			b.SlowStart(d)
		}
	case "fail-start":
		var n int
		td.ScanArgs(t, "n", &n)
		b.FailStart(n)
	case "flap":
		d, _ := h.durationArg(t, td, "period")
		b.Flap(d)
	}
}

func (h *harness) say(t *testing.T, td *datadriven.TestData) *pendingSay {
	var to, text string
	td.ScanArgs(t, "to", &to)
	td.ScanArgs(t, "text", &text)
	ctx, cancel := h.context(t, td)
	p := &pendingSay{text: text, done: make(chan struct{})}
	h.pending = append(h.pending, p)
	go func() {
		defer close(p.done)
		defer cancel()
		p.r, p.err = h.pool.Say(ctx, to, text)
	}()
	return p
}

// collect waits for the async Says, in the order they began.
func (h *harness) collect() []string {
	var out []string
	for _, p := range h.pending {
		<-p.done
		out = append(out, p.describe())
	}
	h.pending = nil
	return out
}

// sentinels are the errors a Say's error is checked against, in the order
// they are told.
var sentinels = []struct {
	err  error
	name string
}{
	{hawechaty.ErrStopped, "stopped"},
	{hawechaty.ErrNotStarted, "not started"},
	{hawechaty.ErrNoBot, "no bot"},
	{puppet.ErrNotSent, "not sent"},
	{puppet.ErrOutcomeUnknown, "outcome unknown"},
	{puppet.ErrPermanent, "permanent"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "deadline exceeded"},
}

func describeErr(err error) string {
	var is []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			is = append(is, s.name)
		}
	}
	return "[" + strings.Join(is, ", ") + "]"
}

func (p *pendingSay) describe() string {
	if p.err == nil {
		return fmt.Sprintf("say %q: delivered by %s (%s, %d attempts)", p.text, p.r.Bot, p.r.ID, p.r.Attempts)
	}
	var se *hawechaty.SendError
	if errors.As(p.err, &se) {
		return fmt.Sprintf("say %q: %s %s by %q after %d attempts %s", p.text, se.ID, se.Outcome, se.Bot, se.Attempts, describeErr(p.err))
	}
	return fmt.Sprintf("say %q: %v %s", p.text, p.err, describeErr(p.err))
}

func (h *harness) jump(t *testing.T, td *datadriven.TestData) {
	h.drain()
	if len(td.CmdArgs) == 0 {
		td.Fatalf(t, "jump init|empty|back [n=N]")
	}
	var to reducers.Pool
	switch where := td.CmdArgs[0].Key; where {
	case "init":
		to = h.history[h.initAt]
	case "empty":
		to = reducers.Pool{}
	case "back":
		n := 1
		if td.HasArg("n") {
			td.ScanArgs(t, "n", &n)
		}
		if n >= len(h.history) {
			td.Fatalf(t, "jump back %d: only %d states", n, len(h.history))
		}
		to = h.history[len(h.history)-1-n]
	default:
		td.Fatalf(t, "jump %s?", where)
	}
	h.check(t, h.pool.Store().Replace(to, "devtools"))
}

// drain moves the changes received so far into the history, and returns
// them.
func (h *harness) drain() []store.Change[reducers.Pool] {
	var cs []store.Change[reducers.Pool]
	for {
		select {
		case c, ok := <-h.sub.C():
			if !ok {
				return cs
			}
			if actions.Init.Is(c.Action) {
				h.initAt = len(h.history)
			}
			h.history = append(h.history, c.State)
			cs = append(cs, c)
		default:
			if h.sub.Dropped() > 0 {
				h.t.Fatalf("the story missed %d changes", h.sub.Dropped())
			}
			return cs
		}
	}
}

// line is one line of a story.
type line struct {
	at   time.Duration // since the pool was made, to the millisecond
	key  string        // what the line is about (see keyOf)
	text string
}

// story tells the changes since the last story. Changes at one virtual
// instant come from goroutines that ran side by side (a bot's pump, the
// effects, the clock, callers), in no fixed order: a story groups them by
// what they concern (sends first, then bots, then the pool), each group
// in dispatch order, except that the end of a reset or a ding is told
// after the bot's other lines of that instant, which race it (the events
// its Stop and Start caused, the next ding). So a story reads the same on
// every run.
func (h *harness) story() string {
	var lines []line
	for _, c := range h.drain() {
		text := h.tell(c)
		h.prev = c.State
		if text == "" {
			continue
		}
		lines = append(lines, line{at: c.Action.Meta.Time.Sub(h.start).Round(time.Millisecond), key: keyOf(c.Action), text: text})
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.key, b.key))
	})
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-10v %s\n", l.at, l.text)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// keyOf orders the lines of one instant (see story).
func keyOf(a actions.Action) string {
	if id := actions.SendOf(a); id != "" {
		return "1 " + id
	}
	if actions.MessageAccepted.Is(a) {
		return "3 inbox"
	}
	if bot := actions.BotOf(a); bot != "" {
		if actions.ResetDone.Is(a) || actions.Ding.Is(a) {
			return "2 " + bot + " ~" // an effect's end, racing what it caused
		}
		if actions.ContactsLearned.Is(a) {
			return "2 " + bot + " ~contacts" // races the rooms' listing
		}
		return "2 " + bot
	}
	return "3 " + a.Type
}

// untold actions are left out of stories: inputs told otherwise, or noise.
var untold = map[string]bool{
	actions.Init.Type(): true, actions.Heartbeat.Type(): true, actions.Message.Type(): true,
	actions.SendCollected.Type(): true,
}

// tell describes one change: its action, and what the reducer decided in
// it (read from the marks it left in the state), or "" to leave it out.
func (h *harness) tell(c store.Change[reducers.Pool]) string {
	a := c.Action
	if untold[a.Type] {
		return ""
	}
	head := fmt.Sprintf("%-17s ", a.Type)
	switch p := a.Payload.(type) {
	case actions.DuePayload:
		b, ok := c.State.Bots.Get(p.Bot)
		old, _ := h.prev.Bots.Get(p.Bot)
		switch {
		case !ok:
			return ""
		case b.DingBy == a.Meta.Seq:
			return head + fmt.Sprintf("%s → ding #%d", p.Bot, b.Dings)
		case b.ResetBy == a.Meta.Seq:
			return head + fmt.Sprintf("%s → reset #%d", p.Bot, b.Reset)
		case b.Phase == reducers.Failed && (old == nil || old.Phase != reducers.Failed):
			return head + fmt.Sprintf("%s → failed (%s)", p.Bot, b.Reason)
		}
		return "" // the deadline moved: nothing was due
	case actions.BotAddedPayload:
		return head + p.Bot
	case actions.LoginPayload:
		return head + p.Bot
	case actions.ScanPayload:
		return head + p.Bot
	case actions.ReasonPayload:
		s := fmt.Sprintf("%s (%s)", p.Bot, p.Reason)
		if actions.BotFailed.Is(a) && !p.Decided {
			s += " → failed"
		}
		return head + s
	case actions.BotPayload:
		return head + p.Bot
	case actions.DingPayload:
		return head + withError(fmt.Sprintf("%s #%d", p.Bot, p.Attempt), p.Error)
	case actions.ResetPayload:
		return head + withError(fmt.Sprintf("%s #%d", p.Bot, p.Attempt), p.Error)
	case actions.RoomsPayload:
		return head + fmt.Sprintf("%s in %v", p.Bot, p.Rooms)
	case actions.ContactsPayload:
		return head + fmt.Sprintf("%s knows %v", p.Bot, p.Contacts)
	case actions.MessagePayload:
		where := ""
		if p.Room != "" {
			where = " in " + p.Room
		}
		// Which bot's copy is accepted is a race between the bots that
		// received it: left out.
		return head + fmt.Sprintf("%s from %s%s: %q", p.MessageID, p.From, where, p.Text)
	case actions.SendPayload:
		return head + fmt.Sprintf("%s to %s %q%s", p.ID, p.To, p.Text, h.decided(c, p.ID))
	case actions.SendIDPayload:
		return head + p.ID + h.decided(c, p.ID)
	case actions.SendResultPayload:
		s := fmt.Sprintf("%s via %s #%d: %s", p.ID, p.Bot, p.Attempt, p.Outcome)
		if p.CallerGone {
			s += " (caller gone)"
		}
		return head + s + h.decided(c, p.ID)
	case actions.ReplacedPayload:
		return head + a.Meta.Source
	case actions.EpicFailedPayload:
		return head + fmt.Sprintf("%s: %s", p.Epic, p.Error)
	case actions.Empty:
		return strings.TrimSpace(head)
	}
	return head + fmt.Sprintf("%+v", a.Payload)
}

func withError(s, err string) string {
	if err != "" {
		return s + " error: " + err
	}
	return s
}

// decided tells what the reducer decided about a send in a change.
func (h *harness) decided(c store.Change[reducers.Pool], id string) string {
	sd, ok := c.State.Sends.Get(id)
	old, had := h.prev.Sends.Get(id)
	if e := c.State.Ended; !ok && e != nil && e != h.prev.Ended && e.ID == id {
		return " → ended: " + e.Outcome.String() // and forgotten: Say has it (SendPayload.Collect)
	}
	switch {
	case !ok && had:
		return " → forgotten (nobody waits)"
	case !ok:
		return ""
	case sd.RoutedBy == c.Action.Meta.Seq:
		return fmt.Sprintf(" → %s (attempt %d)", sd.Bot, sd.Attempt)
	case sd.Outcome.Done() && (!had || !old.Outcome.Done()):
		return " → ended: " + sd.Outcome.String()
	case sd.Waiting && (!had || !old.Waiting):
		return " → waits for a bot"
	}
	return ""
}

// describeState prints the pool's state deterministically.
func (h *harness) describeState() string {
	s := h.pool.State()
	var b strings.Builder
	fmt.Fprintf(&b, "available %d of %d, down=%v, delivered=%d, failovers=%d, accepted=%d\n",
		s.Available, s.Bots.Len(), s.Down, s.Delivered, s.Failovers, s.Accepted)
	for id, bot := range s.Bots.All() {
		sent, _ := s.Sent.Get(id)
		fmt.Fprintf(&b, "%s: %s available=%v loggedIn=%v sent=%d failures=%d dings=%d reset=%d",
			id, bot.Phase, bot.Available, bot.LoggedIn, sent, bot.Failures, bot.Dings, bot.Reset)
		if !bot.LastSeen.IsZero() {
			fmt.Fprintf(&b, " seen=%v", bot.LastSeen.Sub(h.start).Round(time.Millisecond))
		}
		if !bot.ResetAt.IsZero() {
			fmt.Fprintf(&b, " resetAt=%v", bot.ResetAt.Sub(h.start).Round(time.Millisecond))
		}
		if bot.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", bot.Reason)
		}
		b.WriteByte('\n')
	}
	for id, bots := range s.Rooms.All() {
		fmt.Fprintf(&b, "room %s: %v\n", id, bots)
	}
	for id, sd := range s.Sends.All() {
		fmt.Fprintf(&b, "send %s to %s: %s via %q attempt %d", id, sd.To, sd.Outcome, sd.Bot, sd.Attempt)
		for _, flag := range []struct {
			on   bool
			name string
		}{{sd.Waiting, "waiting"}, {sd.Canceled, "canceled"}, {sd.Orphan, "orphan"}} {
			if flag.on {
				b.WriteString(" " + flag.name)
			}
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (h *harness) messages() string {
	var ms []string
	closed := false
	for more := true; more; {
		select {
		case m, ok := <-h.pool.Messages():
			if !ok {
				closed, more = true, false
				break
			}
			where := ""
			if m.Room != "" {
				where = " in " + m.Room
			}
			ms = append(ms, fmt.Sprintf("%s from %s%s: %q", m.ID, m.From, where, m.Text))
		default:
			more = false
		}
	}
	slices.Sort(ms) // bots in one room receive a message side by side
	if closed {
		ms = append(ms, "(closed)")
	}
	if len(ms) == 0 {
		return "(none)"
	}
	return strings.Join(ms, "\n")
}

func (h *harness) deliveries() string {
	all := h.world.Delivered()
	ds := slices.DeleteFunc(slices.Clone(all[h.delivered:]), func(d mock.Delivery) bool {
		return d.To == h.world.HeartbeatContact() // dings
	})
	h.delivered = len(all)
	// Two bots' deliveries at one instant come in either order.
	slices.SortStableFunc(ds, func(a, b mock.Delivery) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Bot+a.Text, b.Bot+b.Text)
	})
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%-10v %s → %s: %q", d.Time.Sub(h.start).Round(time.Millisecond), d.Bot, d.To, d.Text))
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "\n")
}

func (h *harness) close() {
	if h.pool != nil && !h.stopped {
		if err := h.pool.Stop(context.Background()); err != nil {
			h.t.Errorf("stop: %v", err)
		}
	}
	h.collect()
	if h.world != nil {
		h.world.Close()
	}
}
