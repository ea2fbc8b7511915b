package reducers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func contacts(bot string, ids ...string) actions.Action {
	return actions.ContactsLearned.New(actions.ContactsPayload{Bot: bot, Contacts: ids})
}

func upBots(w *world, ids ...string) {
	for _, id := range ids {
		w.do(added(id))
		w.do(login(id))
	}
}

// deliver requests a send, checks where the reducer routed it, and ends it.
func (w *world) deliver(id, to string) string {
	w.t.Helper()
	w.do(requested(id, to))
	sd := w.send(id)
	if sd.Outcome.Done() || sd.Waiting {
		w.t.Fatalf("send %s: %v waiting=%v: %s", id, sd.Outcome, sd.Waiting, sd.Error)
	}
	w.do(result(id, sd.Bot, sd.Attempt, actions.Delivered))
	w.do(collected(id))
	return sd.Bot
}

// A contact known to one bot is sent to through that bot only; a bot
// whose contacts could not be listed is tried only when no bot that
// listed it can send; a target nobody listed goes round robin.
func TestContactKnownToOneBot(t *testing.T) {
	w := newWorld(t, exact())
	upBots(w, "b1", "b2", "b3")
	w.do(contacts("b1", reducers.DefaultHeartbeatContact, "alice"))
	w.do(contacts("b2", reducers.DefaultHeartbeatContact))
	for i := range 4 {
		assert.Equal(t, "b1", w.deliver(fmt.Sprint("a", i), "alice"))
	}
	var unknown []string
	for i := range 3 {
		unknown = append(unknown, w.deliver(fmt.Sprint("z", i), "zed"))
	}
	assert.ElementsMatch(t, []string{"b1", "b2", "b3"}, unknown, "a target nobody listed: every bot, round robin")
	assert.True(t, reducers.Reaches(w.s, "alice", "b3"), "b3's contacts are unknown")
	assert.False(t, reducers.Reaches(w.s, "alice", "b2"))

	w.do(logout("b1"))
	assert.Equal(t, "b3", w.deliver("a9", "alice"), "the unlisted bot, not b2 which listed its contacts")
	w.do(contacts("b3"))
	w.do(requested("a10", "alice"))
	assert.Equal(t, actions.NoBot, w.send("a10").Outcome)
}

// A refusal as not a friend marks the bot unable to reach the target and
// retries on another bot that knows it; when none is left the send ends
// Unreachable. Learning the contact again lifts the mark.
func TestNotAFriendRetriesElsewhere(t *testing.T) {
	w := newWorld(t, exact())
	upBots(w, "b1", "b2", "b3")
	w.do(contacts("b1", "alice"))
	w.do(contacts("b2", "alice"))
	w.do(contacts("b3"))
	w.do(requested("s1", "alice"))
	first := w.send("s1").Bot
	w.do(result("s1", first, 1, actions.Unreachable))
	sd := w.send("s1")
	require.Equal(t, 2, sd.Attempt)
	second := sd.Bot
	assert.NotEqual(t, first, second)
	assert.Equal(t, 0, w.bot(first).Failures, "a refusal is not the bot's failure")
	refused, _ := w.s.Unreachable.Get("alice")
	assert.Equal(t, []string{first}, refused)
	knowers, _ := w.s.Contacts.Get("alice")
	assert.Equal(t, []string{second}, knowers)

	w.do(result("s1", second, 2, actions.Unreachable))
	sd = w.send("s1")
	assert.Equal(t, actions.Unreachable, sd.Outcome)
	assert.Contains(t, sd.Error, "no bot can reach alice: 2 refused it as not a friend")
	assert.Equal(t, 2, sd.Attempt, "b3 does not know alice")
	w.do(collected("s1"))

	w.do(requested("s2", "alice"))
	assert.Equal(t, actions.NoBot, w.send("s2").Outcome, "nobody reaches alice now")
	w.do(actions.ContactAdded.New(actions.ContactPayload{Bot: second, Contact: "alice"}))
	assert.Equal(t, second, w.deliver("s3", "alice"))
	w.do(contacts(first, "alice"))
	assert.False(t, w.s.Unreachable.Has("alice"))

	// A friend removed, as a puppet tells it.
	w.do(actions.ContactRemoved.New(actions.ContactPayload{Bot: second, Contact: "alice"}))
	assert.Equal(t, first, w.deliver("s4", "alice"))
	w.do(removed(first))
	refused, _ = w.s.Unreachable.Get("alice")
	assert.Equal(t, []string{second}, refused)
	knowers, _ = w.s.Contacts.Get("alice")
	assert.Empty(t, knowers)
}

// The heartbeat contact missing from a bot's contacts is in the state.
func TestUnfollowedHeartbeatContact(t *testing.T) {
	w := newWorld(t, exact())
	upBots(w, "b1", "b2")
	w.do(contacts("b1", "alice"))
	w.do(contacts("b2", "alice", reducers.DefaultHeartbeatContact))
	assert.True(t, w.s.Unfollowed.Has("b1"))
	assert.False(t, w.s.Unfollowed.Has("b2"))
	w.do(actions.ContactAdded.New(actions.ContactPayload{Bot: "b1", Contact: reducers.DefaultHeartbeatContact}))
	assert.False(t, w.s.Unfollowed.Has("b1"))
	w.do(actions.ContactRemoved.New(actions.ContactPayload{Bot: "b2", Contact: reducers.DefaultHeartbeatContact}))
	assert.True(t, w.s.Unfollowed.Has("b2"))
	w.do(removed("b2"))
	assert.Zero(t, w.s.Unfollowed.Len())
}

func rated(sends int, per time.Duration, burst int) reducers.Config {
	c := exact()
	c.RateLimit = reducers.RateLimit{Sends: sends, Per: per, Burst: burst}
	return c
}

// A burst over one bot's budget spreads over the bots; when all are over,
// sends wait, the first refill is a deadline, and its bot/DUE routes them.
func TestRateLimitSpreadsAndWaits(t *testing.T) {
	w := newWorld(t, rated(2, time.Minute, 2))
	upBots(w, "b1", "b2")
	per := map[string]int{}
	for i := range 4 {
		w.do(requested(fmt.Sprint("s", i), "alice"))
		per[w.send(fmt.Sprint("s", i)).Bot]++
	}
	assert.Equal(t, map[string]int{"b1": 2, "b2": 2}, per)
	w.do(requested("s4", "alice"))
	w.do(requested("s5", "alice"))
	for _, id := range []string{"s4", "s5"} {
		sd := w.send(id)
		assert.True(t, sd.Waiting && sd.Throttled, "%s waits for a budget", id)
	}
	at, bot, _ := w.s.Deadlines.Min()
	assert.True(t, t0.Add(30*time.Second).Equal(at), "one send's worth refills in 30 s, not %v", at.Sub(t0))
	refills := 0
	w.tick(30*time.Second, func(_ reducers.Pool, a actions.Action) {
		if w.bot(bot).RefillBy == a.Meta.Seq {
			refills++
		}
	})
	require.Equal(t, 1, refills)
	w.do(retry("s4"))
	w.do(retry("s5"))
	assert.Equal(t, 1, w.send("s4").Attempt, "routed after the refill")
	assert.Equal(t, 1, w.send("s5").Attempt, "both bots refilled one send")
	assert.NotEqual(t, w.send("s4").Bot, w.send("s5").Bot)
	w.do(requested("s6", "alice"))
	assert.True(t, w.send("s6").Throttled, "over budget again")
	w.do(canceled("s6"))
	sd := w.send("s6")
	assert.Equal(t, actions.RateLimited, sd.Outcome)
	assert.Contains(t, sd.Error, "over its send budget")
}

// With the limit off, nothing waits.
func TestRateLimitOff(t *testing.T) {
	w := newWorld(t, rated(-1, 0, 0))
	upBots(w, "b1")
	for i := range 100 {
		w.deliver(fmt.Sprint("s", i), "alice")
	}
	assert.Zero(t, w.s.Buckets.Len())
}

// Affinity sticks: a conversation keeps its first bot; it moves only when
// that bot cannot serve it, and not back on recovery nor on additions.
func TestAffinitySticks(t *testing.T) {
	cfg := exact()
	cfg.Affinity = true
	cfg.RateLimit = reducers.RateLimit{Sends: -1}
	w := newWorld(t, cfg)
	upBots(w, "b1", "b2", "b3", "b4")
	const n = 200
	owner := map[string]string{}
	for i := range n {
		c := fmt.Sprint("conv-", i)
		owner[c] = w.deliver("first-"+c, c)
	}
	moved := func(round string) (int, map[string]string) {
		m, now := 0, map[string]string{}
		for i := range n {
			c := fmt.Sprint("conv-", i)
			now[c] = w.deliver(round+c, c)
			if now[c] != owner[c] {
				m++
			}
		}
		return m, now
	}
	m, _ := moved("again-")
	assert.Zero(t, m)

	w.do(logout("b2"))
	m, now := moved("b2-down-")
	assert.Equal(t, count(owner, "b2"), m, "only b2's conversations move")
	owner = now
	w.do(login("b2"))
	m, _ = moved("b2-back-")
	assert.Zero(t, m, "none moves back when b2 recovers")
	upBots(w, "b5")
	m, _ = moved("b5-added-")
	assert.Zero(t, m, "none moves to a new bot")
}

func count(m map[string]string, v string) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}

// Affinity memory is bounded by generations: a conversation used since
// the last turnover survives it.
func TestAffinityGenerations(t *testing.T) {
	cfg := exact()
	cfg.Affinity, cfg.AffinitySize = true, 2
	w := newWorld(t, cfg)
	upBots(w, "b1", "b2")
	w.deliver("1", "c1")
	w.deliver("2", "c2")
	w.deliver("3", "c3") // turnover: c1, c2 are old
	w.deliver("4", "c1") // promoted
	w.deliver("5", "c4") // turnover: c3, c1 old; c2 forgotten
	_, ok := w.s.StickyBot("c2")
	assert.False(t, ok)
	for _, c := range []string{"c1", "c3", "c4"} {
		_, ok := w.s.StickyBot(c)
		assert.True(t, ok, c)
	}
	assert.LessOrEqual(t, w.s.Sticky.Len()+w.s.StickyOld.Len(), 2*cfg.AffinitySize)
}

// A bot over its budget lends the send; the conversation stays.
func TestAffinityLendsWhenOverBudget(t *testing.T) {
	cfg := rated(60, time.Minute, 1)
	cfg.Affinity = true
	w := newWorld(t, cfg)
	upBots(w, "b1", "b2")
	home := w.deliver("s1", "c")
	lent := w.deliver("s2", "c")
	assert.NotEqual(t, home, lent)
	b, _ := w.s.StickyBot("c")
	assert.Equal(t, home, b)
	w.now += time.Second
	assert.Equal(t, home, w.deliver("s3", "c"))
}

func text(bot, id, from, room, body string) actions.Action {
	return actions.Message.New(actions.MessagePayload{Bot: bot, MessageID: id, From: from, Room: room, Text: body})
}

// Two providers' IDs for one message: accepted once. The same text sent
// again outside the window: accepted again.
func TestFingerprintDedupe(t *testing.T) {
	w := newWorld(t, exact())
	upBots(w, "b1", "b2")
	accepted := func(a actions.Action) bool {
		a = w.do(a)
		p, _ := actions.Message.Match(a)
		return w.s.AcceptedBy(reducers.SeenKey(p.MessageID, a.Meta.Seq)) == a.Meta.Seq
	}
	assert.True(t, accepted(text("b1", "pad:1", "carol", "r", "hello")))
	w.now += 2 * time.Second
	assert.False(t, accepted(text("b2", "svc:9", "carol", "r", "hello")), "the other provider's copy")
	assert.True(t, accepted(text("b2", "svc:10", "dave", "r", "hello")), "another sender")
	assert.True(t, accepted(text("b2", "svc:11", "carol", "r2", "hello")), "another room")
	w.now += reducers.DefaultFingerprint
	assert.True(t, accepted(text("b1", "pad:2", "carol", "r", "hello")), "outside the window")
	// Direct messages: to one account, once; to two accounts, twice.
	assert.True(t, accepted(text("b1", "pad:3", "carol", "", "hi")))
	assert.True(t, accepted(text("b2", "svc:12", "carol", "", "hi")), "b2 is another account")

	off := exact()
	off.Fingerprint = -1
	w = newWorld(t, off)
	upBots(w, "b1", "b2")
	assert.True(t, accepted(text("b1", "pad:1", "carol", "r", "hello")))
	assert.True(t, accepted(text("b2", "svc:9", "carol", "r", "hello")), "fingerprints off")
}

// The fingerprint memory is bounded: it turns over every window.
func TestFingerprintBounded(t *testing.T) {
	w := newWorld(t, exact())
	upBots(w, "b1")
	for i := range 1000 {
		w.now += time.Second
		w.do(text("b1", fmt.Sprint("m", i), "carol", "r", fmt.Sprint("text ", i)))
	}
	assert.LessOrEqual(t, w.s.Prints.Len()+w.s.PrintsOld.Len(), 2*int(reducers.DefaultFingerprint/time.Second)+2)
}

func TestFingerprintKey(t *testing.T) {
	m := func(id, from, room, body string) actions.MessagePayload {
		return actions.MessagePayload{MessageID: id, From: from, Room: room, Text: body}
	}
	base := reducers.Fingerprint(m("a", "carol", "r", "hi"), "")
	assert.NotEmpty(t, base)
	assert.Equal(t, base, reducers.Fingerprint(m("b", "carol", "r", "hi"), "other"), "the ID and self do not count in a room")
	for name, other := range map[string]string{
		"sender": reducers.Fingerprint(m("a", "dave", "r", "hi"), ""),
		"room":   reducers.Fingerprint(m("a", "carol", "r2", "hi"), ""),
		"text":   reducers.Fingerprint(m("a", "carol", "r", "hi!"), ""),
		"direct": reducers.Fingerprint(m("a", "carol", "", "hi"), ""),
		"shift":  reducers.Fingerprint(m("a", "caro", "r", "lhi"), ""),
	} {
		assert.NotEqual(t, base, other, name)
	}
	assert.NotEqual(t, reducers.Fingerprint(m("a", "carol", "", "hi"), "me1"), reducers.Fingerprint(m("a", "carol", "", "hi"), "me2"))
	assert.Empty(t, reducers.Fingerprint(m("a", "carol", "r", ""), ""))
	assert.Empty(t, reducers.Fingerprint(m("", "carol", "r", "hi"), ""))
}

// TestRoundRobinResumesAfterCompaction: removing bots compacts the tables
// once few bots are left (positions move), and round robin resumes at the
// bot it would have chosen, every bot in turn.
func TestRoundRobinResumesAfterCompaction(t *testing.T) {
	w := newWorld(t, exact())
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprint("b", i))
	}
	upBots(w, ids...)
	for i := range 7 {
		assert.Equal(t, ids[i], w.deliver(fmt.Sprint("s", i), "zed"))
	}
	// b7 is next. Removing b0-b5 and b8-b34 leaves 7 bots in 40 slots:
	// the tables are compacted on the way (past 32 holes).
	slots := w.s.Avail.Slots()
	for _, id := range append(ids[0:6:6], ids[8:35]...) {
		w.do(removed(id))
	}
	require.Less(t, w.s.Avail.Slots(), slots, "compacted")
	var got []string
	for i := range 9 {
		got = append(got, w.deliver(fmt.Sprint("t", i), "zed"))
	}
	assert.Equal(t, []string{"b7", "b35", "b36", "b37", "b38", "b39", "b6", "b7", "b35"}, got)
}
