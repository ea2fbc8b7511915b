package cluster

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contentNode is a process that drives one bot of a pool and claims its
// inbound messages; fp is the fingerprint window of both its reducer and
// its claims.
type contentNode struct {
	st *store.Store[reducers.Pool]
	in *Inbound
}

func newContentNode(t testing.TB, rdb redis.UniversalClient, node string, fp time.Duration, owners map[string]string) *contentNode {
	t.Helper()
	in, err := NewInbound(rdb, node, InboundOptions{Prefix: testPrefix, Fingerprint: fp, Timeout: time.Minute})
	require.NoError(t, err)
	cfg := reducers.Config{Node: node, Fingerprint: fp}.Defaults()
	st, err := store.New(cfg.Reducer(), reducers.Pool{}, store.WithMiddleware(InboundMiddleware(in, identity)))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	t.Cleanup(st.Stop)
	var i uint64
	for _, b := range []string{"b1", "b2", "b3"} {
		i++
		require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b})))
		own := actions.Owned.New(actions.OwnedPayload{Bot: b, Node: owners[b], Token: i})
		if owners[b] != node {
			own.Meta.Node, own.Meta.Token = owners[b], i
		}
		require.NoError(t, st.Dispatch(own))
	}
	return &contentNode{st: st, in: in}
}

// message delivers a message to bot; it reports whether the reducer
// accepted it (the middleware and the reducer run within Dispatch).
func (n *contentNode) message(t testing.TB, p actions.MessagePayload) bool {
	t.Helper()
	require.NoError(t, n.st.Dispatch(actions.Message.New(p)))
	return n.st.State().AcceptedBy(p.MessageID) != 0
}

// owners: n1 drives b1 and b3, n2 drives b2.
var contentOwners = map[string]string{"b1": "n1", "b2": "n2", "b3": "n1"}

func roomMsg(bot, id, text string) actions.MessagePayload {
	return actions.MessagePayload{Bot: bot, MessageID: id, From: "carol", Room: "r1", Text: text}
}

// TestInboundContentOnceAcrossProcesses: one room message reaches b1
// (n1) and b2 (n2) under different IDs, as from two providers: accepted
// once cluster-wide; the copy n2 loses is still b2's sign of life.
func TestInboundContentOnceAcrossProcesses(t *testing.T) {
	_, rdb := feedRedis(t)
	testInboundContentOnce(t, rdb)
}

func testInboundContentOnce(t *testing.T, rdb redis.UniversalClient) {
	n1 := newContentNode(t, rdb, "n1", 0, contentOwners)
	n2 := newContentNode(t, rdb, "n2", 0, contentOwners)
	assert.True(t, n1.message(t, roomMsg("b1", "pa-1", "lunch?")))
	assert.False(t, n2.message(t, roomMsg("b2", "pb-1", "lunch?")), "the same content under another ID, in another process")
	b2, _ := n2.st.State().Bots.Get("b2")
	assert.False(t, b2.LastSeen.IsZero(), "the lost copy is b2's sign of life")
	// In n1 too, a third copy under a third ID (the local dedupe and the
	// claim agree), and the first ID again through b3.
	assert.False(t, n1.message(t, roomMsg("b3", "pc-1", "lunch?")))
	assert.True(t, n1.st.State().AcceptedBy("pa-1") != 0)
	// Other content: each process accepts its own.
	assert.True(t, n1.message(t, roomMsg("b1", "pa-2", "12:30")))
	assert.True(t, n2.message(t, roomMsg("b2", "pb-3", "13:00")))
	// Another sender, another room, the same text: not the same message.
	other := roomMsg("b2", "pb-4", "lunch?")
	other.From = "dave"
	assert.True(t, n2.message(t, other))
	other = roomMsg("b2", "pb-5", "lunch?")
	other.Room = "r2"
	assert.True(t, n2.message(t, other))
	assert.Zero(t, n1.in.Unsure()+n2.in.Unsure())
}

// TestInboundContentWindow: past the fingerprint window (Redis's clock,
// fast-forwarded) the same text is a new message, in whichever process;
// within it, it is not.
func TestInboundContentWindow(t *testing.T) {
	m, rdb := feedRedis(t)
	n1 := newContentNode(t, rdb, "n1", 0, contentOwners)
	n2 := newContentNode(t, rdb, "n2", 0, contentOwners)
	assert.True(t, n1.message(t, roomMsg("b1", "pa-1", "ok")))
	m.FastForward(reducers.DefaultFingerprint - time.Millisecond)
	assert.False(t, n2.message(t, roomMsg("b2", "pb-1", "ok")), "within the window")
	m.FastForward(time.Millisecond)
	assert.True(t, n2.message(t, roomMsg("b2", "pb-2", "ok")), "the window ends on Redis's clock")
	// The lost copy claimed nothing: its ID is free for a copy after the
	// window, as in the reducer (a fingerprint duplicate's ID is not
	// remembered). (Claimed directly: both reducers, on the real clock,
	// still hold the text.)
	m.FastForward(reducers.DefaultFingerprint)
	p := roomMsg("b2", "pb-1", "ok")
	assert.True(t, n2.in.ClaimContent(context.Background(), p.MessageID, n2.st.State().Fingerprint(p)))
}

// TestInboundContentOff: with fingerprints off in the pool, only IDs are
// claimed: copies under different IDs are accepted in both processes, as
// one process's reducer would accept both.
func TestInboundContentOff(t *testing.T) {
	m, rdb := feedRedis(t)
	n1 := newContentNode(t, rdb, "n1", -1, contentOwners)
	n2 := newContentNode(t, rdb, "n2", -1, contentOwners)
	assert.True(t, n1.message(t, roomMsg("b1", "pa-1", "lunch?")))
	assert.True(t, n2.message(t, roomMsg("b2", "pb-1", "lunch?")))
	assert.True(t, n1.message(t, roomMsg("b3", "pc-1", "lunch?")), "the local reducer too")
	assert.False(t, n2.message(t, roomMsg("b2", "pa-1", "lunch?")), "the ID is still claimed")
	for _, k := range m.Keys() {
		assert.NotContains(t, k, ":print:", "no content key")
	}
}

// TestInboundContentDirect: a direct message is keyed on the account it
// reached: two bots logged in as one account (two providers) see it
// once; bots of two accounts each see their own.
func TestInboundContentDirect(t *testing.T) {
	_, rdb := feedRedis(t)
	n1 := newContentNode(t, rdb, "n1", 0, contentOwners)
	n2 := newContentNode(t, rdb, "n2", 0, contentOwners)
	for _, n := range []*contentNode{n1, n2} {
		for b, self := range map[string]string{"b1": "acct-a", "b2": "acct-a", "b3": "acct-b"} {
			a := actions.Login.New(actions.LoginPayload{Bot: b, Self: self})
			if contentOwners[b] != n.in.node {
				a.Meta.Node = contentOwners[b]
			}
			require.NoError(t, n.st.Dispatch(a))
		}
	}
	dm := func(bot, id string) actions.MessagePayload {
		return actions.MessagePayload{Bot: bot, MessageID: id, From: "carol", Text: "hi"}
	}
	assert.True(t, n1.message(t, dm("b1", "pa-1")))
	assert.False(t, n2.message(t, dm("b2", "pb-1")), "the same account's copy")
	assert.True(t, n1.message(t, dm("b3", "pc-1")), "another account's message")
}

// TestInboundClaimContentOrder: the script follows the reducer's order:
// a claimed ID loses without taking the content key; a held content key
// loses without taking the ID.
func TestInboundClaimContentOrder(t *testing.T) {
	m, rdb := feedRedis(t)
	in, err := NewInbound(rdb, "n1", InboundOptions{Prefix: testPrefix, Window: time.Minute})
	require.NoError(t, err)
	ctx := context.Background()
	k := Keys{Prefix: testPrefix}
	assert.True(t, in.ClaimContent(ctx, "m1", "fa"))
	v, err := m.Get(k.Seen("m1"))
	require.NoError(t, err)
	assert.Equal(t, "n1", v)
	assert.Equal(t, time.Minute, m.TTL(k.Seen("m1")))
	assert.Equal(t, reducers.DefaultFingerprint, m.TTL(k.Print("fa")))
	assert.False(t, in.ClaimContent(ctx, "m1", "fb"), "ID claimed")
	assert.False(t, m.Exists(k.Print("fb")), "the content key is left alone")
	assert.False(t, in.ClaimContent(ctx, "m2", "fa"), "content claimed")
	assert.False(t, m.Exists(k.Seen("m2")), "the ID is not claimed")
	assert.True(t, in.ClaimContent(ctx, "m3", ""), "no content key: the ID alone")
	assert.False(t, in.ClaimContent(ctx, "m3", ""))
	assert.True(t, in.Claim(ctx, "m4"))
	assert.Zero(t, in.Unsure())

	_, err = NewInbound(rdb, "n1", InboundOptions{Fingerprint: time.Microsecond})
	assert.Error(t, err, "a window below 1 ms")

	m.Close()
	assert.True(t, in.ClaimContent(ctx, "m5", "fa"), "Redis is gone: accept")
	assert.EqualValues(t, 1, in.Unsure())
}

// BenchmarkInboundClaim: one claim, the ID alone (the baseline) against
// the ID and the content key (the script), on miniredis; the integration
// benchmark runs it on a real redis-server.
func BenchmarkInboundClaim(b *testing.B) {
	_, rdb := feedRedis(b)
	benchInboundClaim(b, rdb)
}

func benchInboundClaim(b *testing.B, rdb redis.UniversalClient) {
	var cmds cmdCounter
	rdb.AddHook(&cmds)
	for _, c := range []struct {
		name string
		fp   time.Duration
	}{{"id", -1}, {"id+content", 0}} {
		round := 0 // b.Run calls the function once per b.N: fresh IDs each time
		b.Run(c.name, func(b *testing.B) {
			round++
			in, err := NewInbound(rdb, "n1", InboundOptions{Prefix: testPrefix + "-" + c.name, Fingerprint: c.fp})
			require.NoError(b, err)
			ctx := context.Background()
			in.ClaimContent(ctx, "warm", "warm") // the script loaded
			var lost int
			cmds.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				// Two copies of each message under two IDs: one wins, one
				// loses (by its content key when fingerprints are on).
				s := strconv.Itoa(round) + "-" + strconv.Itoa(i)
				fp := reducers.Fingerprint(actions.MessagePayload{MessageID: "a" + s, From: "carol", Room: "r1", Text: "text " + s}, "")
				if !in.ClaimContent(ctx, "a"+s, fp) {
					b.Fatal("the first copy lost")
				}
				if !in.ClaimContent(ctx, "b"+s, fp) {
					lost++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(lost)/float64(b.N), "lost/msg")
			b.ReportMetric(float64(cmds.n.Load())/float64(2*b.N), "redis-cmds/claim")
			require.Zero(b, in.Unsure())
		})
	}
}

// The content key is in the pool's slot, apart from the ID keys.
func TestKeysPrintSharesThePoolsHashTag(t *testing.T) {
	k := Keys{Prefix: "hawechaty"}
	assert.Equal(t, "{hawechaty}:print:3f2a", k.Print("3f2a"))
	assert.NotEqual(t, k.Seen("3f2a"), k.Print("3f2a"))
}

// TestInboundContentOnceUnderRace: 100 room messages, each reaching b1,
// b3 (n1) and b2 (n2) at once under three IDs: each is accepted exactly
// once across both processes.
func TestInboundContentOnceUnderRace(t *testing.T) {
	_, rdb := feedRedis(t)
	n1 := newContentNode(t, rdb, "n1", 0, contentOwners)
	n2 := newContentNode(t, rdb, "n2", 0, contentOwners)
	const msgs = 100
	var wg sync.WaitGroup
	for i := range msgs {
		for _, b := range []string{"b1", "b2", "b3"} {
			n := n1
			if contentOwners[b] == "n2" {
				n = n2
			}
			wg.Go(func() {
				assert.NoError(t, n.st.Dispatch(actions.Message.New(roomMsg(b, b+"-"+strconv.Itoa(i), "text "+strconv.Itoa(i)))))
			})
		}
	}
	wg.Wait()
	s1, s2 := n1.st.State(), n2.st.State()
	for i := range msgs {
		got := 0
		for _, b := range []string{"b1", "b2", "b3"} {
			id := b + "-" + strconv.Itoa(i)
			if s1.AcceptedBy(id) != 0 || s2.AcceptedBy(id) != 0 {
				got++
			}
		}
		assert.Equal(t, 1, got, "message %d accepted %d times", i, got)
	}
	assert.Zero(t, n1.in.Unsure()+n2.in.Unsure())
}
