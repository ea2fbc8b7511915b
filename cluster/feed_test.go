package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPrefix = "t"

// feedRedis starts a miniredis for the test and returns a client on it.
func feedRedis(t testing.TB) (*miniredis.Miniredis, redis.UniversalClient) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), PoolSize: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	return m, rdb
}

// holdLease sets bot's lease and fence as the lease manager's grant does.
func holdLease(t testing.TB, rdb redis.UniversalClient, bot, node string, token uint64) {
	t.Helper()
	tok := strconv.FormatUint(token, 10)
	require.NoError(t, rdb.Set(context.Background(), Keys{Prefix: testPrefix}.Lease(bot), node+"|"+tok, 0).Err())
	require.NoError(t, rdb.Set(context.Background(), Keys{Prefix: testPrefix}.Fence(bot), tok, 0).Err())
}

func identity(s reducers.Pool) reducers.Pool { return s }

// proc is one process of a test cluster: a store on its node with the
// publishing epic and the health notices, its feed, and its follower.
type proc struct {
	t    testing.TB
	node string
	st   *store.Store[reducers.Pool]
	feed *Feed

	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	followed []actions.Action // what the follower dispatched
}

func newProc(t testing.TB, rdb redis.UniversalClient, node string, opts FeedOptions, bots ...string) *proc {
	t.Helper()
	opts.Prefix = testPrefix
	f, err := NewFeed(rdb, node, opts)
	require.NoError(t, err)
	cfg := reducers.Config{Node: node}.Defaults()
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithEpic("publish", PublishEpic(f, identity)),
		store.WithEpic("effects", epics.Effect(identity, epics.Health())))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	p := &proc{t: t, node: node, st: st, feed: f}
	for _, b := range bots {
		p.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b, Puppet: "mock"}))
	}
	t.Cleanup(p.stop)
	return p
}

// follow starts the process's follower.
func (p *proc) follow() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() {
		p.done <- p.feed.Follow(ctx, func(a actions.Action) error {
			p.mu.Lock()
			p.followed = append(p.followed, a)
			p.mu.Unlock()
			return p.st.Dispatch(a)
		})
	}()
}

func (p *proc) stop() {
	if p.cancel != nil {
		p.cancel()
		assert.NoError(p.t, <-p.done)
		p.cancel = nil
	}
	p.st.Stop()
}

func (p *proc) dispatch(a actions.Action) {
	p.t.Helper()
	require.NoError(p.t, p.st.Dispatch(a))
}

func (p *proc) own(bot string, token uint64) {
	p.t.Helper()
	require.NoError(p.t, p.feed.Own(context.Background(), p.st.Dispatch, bot, token))
}

func (p *proc) bot(id string) reducers.Bot {
	p.t.Helper()
	b, ok := p.st.State().Bots.Get(id)
	require.True(p.t, ok, "no bot %q", id)
	return *b
}

func (p *proc) followedSoFar() []actions.Action {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.followed)
}

// waitFor waits until cond holds of the process's state, for at most 10 s.
func (p *proc) waitFor(what string, cond func(s reducers.Pool) bool) {
	p.t.Helper()
	sub := p.st.Subscribe(1)
	defer sub.Close()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond(p.st.State()) {
		select {
		case <-sub.C():
		case <-deadline.C:
			p.t.Fatalf("%s: %s never came", p.node, what)
		}
	}
}

func available(bot string) func(reducers.Pool) bool {
	return func(s reducers.Pool) bool { b, ok := s.Bots.Get(bot); return ok && b.Available }
}

func login(bot string) actions.Action {
	return actions.Login.New(actions.LoginPayload{Bot: bot, Self: "self-" + bot})
}

// TestFeedMirrorsTheOwnersFacts: each of two processes drives one bot;
// each store holds both, the other's as its owner tells: where it runs,
// its login, rooms, logout. Neither schedules anything for the other's.
func TestFeedMirrorsTheOwnersFacts(t *testing.T) {
	_, rdb := feedRedis(t)
	testFeedMirrorsTheOwnersFacts(t, rdb)
}

func testFeedMirrorsTheOwnersFacts(t *testing.T, rdb redis.UniversalClient) {
	n1 := newProc(t, rdb, "n1", FeedOptions{}, "b1", "b2")
	n2 := newProc(t, rdb, "n2", FeedOptions{}, "b1", "b2")
	n1.follow()
	n2.follow()
	holdLease(t, rdb, "b1", "n1", 1)
	holdLease(t, rdb, "b2", "n2", 7)
	n1.own("b1", 1)
	n2.own("b2", 7)
	n1.dispatch(login("b1"))
	n1.dispatch(actions.RoomsLearned.New(actions.RoomsPayload{Bot: "b1", Rooms: []string{"r1"}}))
	n1.dispatch(actions.ContactsLearned.New(actions.ContactsPayload{Bot: "b1", Contacts: []string{"alice"}}))
	n2.dispatch(login("b2"))

	n2.waitFor("b1 up", available("b1"))
	n1.waitFor("b2 up", available("b2"))
	n2.waitFor("b1 in r1", func(s reducers.Pool) bool { m, _ := s.Rooms.Get("r1"); return slices.Equal(m, []string{"b1"}) })
	n2.waitFor("b1's contacts", func(s reducers.Pool) bool { b, ok := s.Bots.Get("b1"); return ok && b.Listed })
	b1 := n2.bot("b1")
	assert.Equal(t, "n1", b1.Node)
	assert.Equal(t, uint64(1), b1.Token)
	assert.True(t, b1.Due.IsZero(), "n2 watches no bot of n1's")
	assert.Equal(t, "n2", n1.bot("b2").Node)
	assert.True(t, n2.st.State().Selves.Has("self-b1"), "b1's account is the pool's in n2 too")

	n1.dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}))
	n2.waitFor("b1 down", func(s reducers.Pool) bool { return !available("b1")(s) })
	assert.Equal(t, "logout: kicked", n2.bot("b1").Reason)
	assert.Equal(t, "logout: kicked", n2.bot("b1").Reason)

	// The failure n1's reducer decides reaches n2 as its notice.
	n1.dispatch(login("b1"))
	n2.waitFor("b1 up again", available("b1"))
	n1.dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "operator"}))
	n2.waitFor("b1 failed", func(s reducers.Pool) bool { b, _ := s.Bots.Get("b1"); return b.Phase == reducers.Failed })
	assert.Equal(t, "operator", n2.bot("b1").Reason)
	assert.True(t, n2.bot("b1").ResetAt.IsZero(), "n2 resets no bot of n1's")

	// Only facts travel: no ticks, no sends, no messages.
	for _, a := range n2.followedSoFar() {
		assert.Contains(t, []string{"cluster/OWNED", "bot/LOGIN", "bot/ROOMS", "bot/CONTACTS", "bot/LOGOUT", "bot/FAILED", "bot/RECOVERED"}, a.Type)
		assert.Equal(t, "n1", a.Meta.Node)
	}
}

// TestFeedRefusesAFormerOwner: once n3 holds b1 under a newer token, a
// fact n1 publishes for b1 is refused by Redis, and n1's release of b1
// lands in no other store.
func TestFeedRefusesAFormerOwner(t *testing.T) {
	_, rdb := feedRedis(t)
	testFeedRefusesAFormerOwner(t, rdb)
}

func testFeedRefusesAFormerOwner(t *testing.T, rdb redis.UniversalClient) {
	n1 := newProc(t, rdb, "n1", FeedOptions{}, "b1")
	n2 := newProc(t, rdb, "n2", FeedOptions{}, "b1")
	n3 := newProc(t, rdb, "n3", FeedOptions{}, "b1")
	n2.follow()
	holdLease(t, rdb, "b1", "n1", 1)
	n1.own("b1", 1)
	n1.dispatch(login("b1"))
	n2.waitFor("b1 up", available("b1"))

	holdLease(t, rdb, "b1", "n3", 2) // n1 paused past its lease; n3 took b1
	n3.own("b1", 2)
	n2.waitFor("b1 on n3", func(s reducers.Pool) bool { b, _ := s.Bots.Get("b1"); return b.Node == "n3" })

	_, err := n1.feed.publish(context.Background(), "b1", 1, login("b1"))
	require.ErrorIs(t, err, ErrFenced)
	err = n1.feed.Release(context.Background(), n1.st.Dispatch, "b1", 1, "stopping")
	require.ErrorIs(t, err, ErrFenced)
	assert.Empty(t, n1.bot("b1").Node, "released in n1's own store all the same")

	n3.dispatch(login("b1"))
	n2.waitFor("b1 up on n3", available("b1"))
	b1 := n2.bot("b1")
	assert.Equal(t, "n3", b1.Node)
	assert.Equal(t, uint64(2), b1.Token)
	entries, err := rdb.XRange(context.Background(), Keys{Prefix: testPrefix}.Events(), "-", "+").Result()
	require.NoError(t, err)
	var seen []string
	for _, e := range entries {
		seen = append(seen, fmt.Sprintf("%s %s", e.Values["node"], e.Values["type"]))
	}
	// n1's facts (its RECOVERED may have come too late), then n3's: none
	// of n1's after n3 took b1.
	seen = slices.DeleteFunc(seen, func(s string) bool { return s == "n1 bot/RECOVERED" || s == "n3 bot/RECOVERED" })
	assert.Equal(t, []string{"n1 cluster/OWNED", "n1 bot/LOGIN", "n3 cluster/OWNED", "n3 bot/LOGIN"}, seen)
}

// TestJoinRacesPublishes: n1 publishes facts of ten bots as fast as it
// can while n2 follows and writes a snapshot (and trims the stream) every
// few milliseconds, and n3 joins half-way. n3 dispatches exactly the
// entries after the snapshot it loaded, in order, once each, and ends
// with the state of every bot as n1 published it.
func TestJoinRacesPublishes(t *testing.T) {
	_, rdb := feedRedis(t)
	testJoinRacesPublishes(t, rdb)
}

func testJoinRacesPublishes(t *testing.T, rdb redis.UniversalClient) {
	const nbots, nfacts = 10, 400
	var bots []string
	for i := range nbots {
		bots = append(bots, fmt.Sprintf("b%d", i))
	}
	n1 := newProc(t, rdb, "n1", FeedOptions{}, bots...)
	n2 := newProc(t, rdb, "n2", FeedOptions{SnapshotEvery: 2 * time.Millisecond}, bots...)
	n2.follow()
	ctx := context.Background()
	for _, b := range bots {
		holdLease(t, rdb, b, "n1", 1)
		n1.own(b, 1)
	}

	type pub struct {
		id, bot, room string
	}
	var pubs []pub
	var n3 *proc
	for i := range nfacts {
		b := bots[i%nbots]
		room := fmt.Sprintf("r%d", i)
		id, err := n1.feed.publish(ctx, b, 1, actions.RoomsLearned.New(actions.RoomsPayload{Bot: b, Rooms: []string{room}}))
		require.NoError(t, err)
		pubs = append(pubs, pub{id, b, room})
		if i == nfacts/2 {
			n3 = newProc(t, rdb, "n3", FeedOptions{SnapshotEvery: time.Hour}, bots...)
			n3.follow()
		}
	}
	last := pubs[len(pubs)-1]
	n3.waitFor("the last fact", func(s reducers.Pool) bool { m, _ := s.Rooms.Get(last.room); return len(m) == 1 })
	n2.waitFor("the last fact", func(s reducers.Pool) bool { m, _ := s.Rooms.Get(last.room); return len(m) == 1 })

	// The follower's dispatches: a snapshot, then the facts after its
	// entry, in order, once each; should it fall behind a trim, a newer
	// snapshot and the facts after that one.
	followed := n3.followedSoFar()
	require.NotEmpty(t, followed)
	type segment struct {
		from string
		got  []string
	}
	segs := []segment{{from: "0-0"}}
	for _, a := range followed {
		if snap, ok := actions.Snapshot.Match(a); ok {
			segs = append(segs, segment{from: snap.ID})
			continue
		}
		if p, ok := actions.RoomsLearned.Match(a); ok {
			segs[len(segs)-1].got = append(segs[len(segs)-1].got, p.Bot+" "+p.Rooms[0])
		}
	}
	for i, sg := range segs {
		var want []string
		for _, p := range pubs {
			if idAfter(p.id, sg.from) {
				want = append(want, p.bot+" "+p.room)
			}
		}
		if i < len(segs)-1 {
			require.LessOrEqual(t, len(sg.got), len(want))
			want = want[:len(sg.got)] // cut short by the next snapshot
		}
		if !slices.Equal(want, sg.got) {
			assert.Equal(t, want, sg.got, "after %s: every fact, once, in order", sg.from)
		}
	}
	t.Logf("n3 followed from %d snapshots (the first at %s) %d facts of %d", len(segs)-1, segs[min(1, len(segs)-1)].from, len(followed), nfacts)
	for i, b := range bots {
		room := pubs[len(pubs)-nbots+i].room
		assert.Equal(t, []string{room}, roomsOf(n3.st.State(), b), "%s", b)
		assert.Equal(t, roomsOf(n2.st.State(), b), roomsOf(n3.st.State(), b), "%s: as n2, which followed from the start, has it", b)
	}
}

// idAfter reports whether stream entry a comes after b.
func idAfter(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am > bm || (am == bm && as > bs)
}

func splitID(id string) (uint64, uint64) {
	var ms, seq uint64
	_, _ = fmt.Sscanf(id, "%d-%d", &ms, &seq)
	return ms, seq
}

func roomsOf(s reducers.Pool, bot string) []string {
	var out []string
	for id, bots := range s.Rooms.All() {
		if slices.Contains(bots, bot) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestFeedGaps: a read finds out when entries it has not read were
// trimmed: its position is gone, or, from the start, a snapshot exists.
func TestFeedGaps(t *testing.T) {
	_, rdb := feedRedis(t)
	ctx := context.Background()
	f, err := NewFeed(rdb, "n1", FeedOptions{Prefix: testPrefix})
	require.NoError(t, err)
	var ids []string
	for i := range 5 {
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: f.events, Values: []string{"i", strconv.Itoa(i)}}).Result()
		require.NoError(t, err)
		ids = append(ids, id)
	}
	msgs, gap, err := f.read(ctx, "0-0")
	require.NoError(t, err)
	assert.False(t, gap)
	assert.Len(t, msgs, 5)
	msgs, gap, err = f.read(ctx, ids[1])
	require.NoError(t, err)
	assert.False(t, gap)
	assert.Equal(t, ids[2], msgs[0].ID, "the position itself is not read again")

	require.NoError(t, rdb.XTrimMinID(ctx, f.events, ids[3]).Err())
	_, gap, err = f.read(ctx, ids[1])
	require.NoError(t, err)
	assert.True(t, gap, "ids[2] was trimmed before it was read")

	doc, _ := json.Marshal(snapshotDoc{ID: ids[3], State: json.RawMessage(`{}`)})
	require.NoError(t, rdb.Set(ctx, f.snapshot, doc, 0).Err())
	_, gap, err = f.read(ctx, "0-0")
	require.NoError(t, err)
	assert.True(t, gap, "from the start with a snapshot: load it")
}

// TestSnapshotScript: a snapshot replaces an older one only, and trims
// the stream to the one it replaces.
func TestSnapshotScript(t *testing.T) {
	_, rdb := feedRedis(t)
	ctx := context.Background()
	f, err := NewFeed(rdb, "n1", FeedOptions{Prefix: testPrefix})
	require.NoError(t, err)
	var ids []string
	for i := range 6 {
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: f.events, ID: fmt.Sprintf("%d-1", i+1), Values: []string{"i", strconv.Itoa(i)}}).Result()
		require.NoError(t, err)
		ids = append(ids, id)
	}
	write := func(id string) int64 {
		doc, _ := json.Marshal(snapshotDoc{ID: id, State: json.RawMessage(`{}`)})
		n, err := snapshotScript.Run(ctx, f.rdb, []string{f.snapshot, f.events}, id, doc).Int64()
		require.NoError(t, err)
		return n
	}
	assert.EqualValues(t, 1, write(ids[2]))
	assert.EqualValues(t, 6, rdb.XLen(ctx, f.events).Val(), "the first snapshot trims nothing")
	assert.EqualValues(t, 0, write(ids[1]), "older: refused")
	assert.EqualValues(t, 0, write(ids[2]), "the same: refused")
	assert.EqualValues(t, 1, write(ids[4]))
	first, err := rdb.XRangeN(ctx, f.events, "-", "+", 1).Result()
	require.NoError(t, err)
	assert.Equal(t, ids[2], first[0].ID, "trimmed to the snapshot it replaced")
	var doc snapshotDoc
	require.NoError(t, json.Unmarshal([]byte(rdb.Get(ctx, f.snapshot).Val()), &doc))
	assert.Equal(t, ids[4], doc.ID)
}

// TestFollowerSurvivesRedisLosingItsData: Redis comes back empty (the
// stream and the snapshot gone): the follower finds its position gone,
// starts again from the new stream's start, and takes the facts of the
// bot's next owner, whose token (the lease manager's, after a loss) is
// higher.
func TestFollowerSurvivesRedisLosingItsData(t *testing.T) {
	m, rdb := feedRedis(t)
	n1 := newProc(t, rdb, "n1", FeedOptions{}, "b1")
	n2 := newProc(t, rdb, "n2", FeedOptions{}, "b1")
	n2.follow()
	holdLease(t, rdb, "b1", "n1", 1)
	n1.own("b1", 1)
	n1.dispatch(login("b1"))
	n2.waitFor("b1 up", available("b1"))

	m.FlushAll()
	holdLease(t, rdb, "b1", "n3", 1_000_000) // granted after the loss
	n3 := newProc(t, rdb, "n3", FeedOptions{}, "b1")
	n3.own("b1", 1_000_000)
	n2.waitFor("b1 on n3", func(s reducers.Pool) bool { b, _ := s.Bots.Get("b1"); return b.Node == "n3" })
	n3.dispatch(login("b1"))
	n2.waitFor("b1 up on n3", available("b1"))
	assert.Equal(t, uint64(1_000_000), n2.bot("b1").Token)
}
