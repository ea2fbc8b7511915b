package cluster

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sayer is a puppet that counts its Says and answers with say.
type sayer struct {
	name string
	n    atomic.Int64
	say  func(ctx context.Context) error // nil: delivered
}

func (s *sayer) Name() string                                       { return s.name }
func (s *sayer) Start(context.Context) error                        { return nil }
func (s *sayer) Stop(context.Context) error                         { return nil }
func (s *sayer) Events() <-chan puppet.Event                        { return nil }
func (s *sayer) Rooms(context.Context) ([]puppet.Room, error)       { return nil, nil }
func (s *sayer) Contacts(context.Context) ([]puppet.Contact, error) { return nil, nil }
func (s *sayer) Close() error                                       { return nil }
func (s *sayer) Say(ctx context.Context, _, _ string) error {
	s.n.Add(1)
	if s.say == nil {
		return nil
	}
	return s.say(ctx)
}

// fwdNode is one process of a forwarding test: a store with the send
// epic, its puppets, and its forwarder running on its own Redis client
// (closing it is the process's death, as far as Redis can tell).
type fwdNode struct {
	t       testing.TB
	node    string
	st      *store.Store[reducers.Pool]
	fw      *Forwarder
	rdb     redis.UniversalClient
	puppets map[string]*sayer

	cancel context.CancelFunc
	done   chan error
}

var fwdTiming = ForwardOptions{Prefix: testPrefix, SendTimeout: time.Second, Pickup: 300 * time.Millisecond, Grace: 300 * time.Millisecond, Block: 100 * time.Millisecond}

// newFwdNode starts node with bots: local ones are driven here, the
// others by remote[bot]. addr is one server's address, or a Redis
// Cluster's seeds separated by commas.
func newFwdNode(t testing.TB, addr, node string, serve bool, bots []string, remote map[string]string) *fwdNode {
	t.Helper()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(addr, ","), PoolSize: 16})
	t.Cleanup(func() { _ = rdb.Close() })
	fw, err := NewForwarder(rdb, node, fwdTiming)
	require.NoError(t, err)
	n := &fwdNode{t: t, node: node, fw: fw, rdb: rdb, puppets: map[string]*sayer{}}
	cfg := reducers.Config{Node: node, SendTimeout: fwdTiming.SendTimeout}.Defaults()
	deps := epics.Deps{Puppet: func(b string) (puppet.Puppet, bool) { p, ok := n.puppets[b]; return p, ok }, Forward: fw}
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithEpic("effects", epics.Effect(identity, epics.Send(cfg, deps), epics.Health())))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	n.st = st
	for i, b := range bots {
		n.puppets[b] = &sayer{name: b}
		require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b, Puppet: "sayer"})))
		owner, tok := node, uint64(i+1)
		if r, ok := remote[b]; ok {
			owner = r
		}
		owned := actions.Owned.New(actions.OwnedPayload{Bot: b, Node: owner, Token: tok})
		login := login(b)
		if owner != node {
			owned.Meta.Node, owned.Meta.Token = owner, tok
			login.Meta.Node, login.Meta.Token = owner, tok
		}
		require.NoError(t, st.Dispatch(owned))
		require.NoError(t, st.Dispatch(login))
	}
	if serve {
		n.serve()
	}
	t.Cleanup(n.stop)
	return n
}

func (n *fwdNode) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() {
		n.done <- n.fw.Run(ctx, Owner{State: n.st.State, Dispatch: n.st.Dispatch,
			Puppet: func(b string) (puppet.Puppet, bool) { p, ok := n.puppets[b]; return p, ok }})
	}()
}

func (n *fwdNode) stop() {
	if n.cancel != nil {
		n.cancel()
		assert.NoError(n.t, <-n.done)
		n.cancel = nil
	}
	n.st.Stop()
}

// send requests a send and waits for its end.
func (n *fwdNode) send(id string) reducers.Send {
	n.t.Helper()
	require.NoError(n.t, n.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: "alice", Text: "hello"})))
	return n.wait(id)
}

// wait waits for send id's end.
func (n *fwdNode) wait(id string) reducers.Send {
	n.t.Helper()
	sub := n.st.Subscribe(1)
	defer sub.Close()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		if sd, ok := n.st.State().Sends.Get(id); ok && sd.Outcome.Done() {
			return *sd
		}
		select {
		case <-sub.C():
		case <-deadline.C:
			n.t.Fatalf("%s: send %s never ended", n.node, id)
		}
	}
}

// twoNodes: n1 drives b1 and knows b2 is n2's; n2 drives b2. Round robin
// on n1 routes a first send to b2 (added first).
func twoNodes(t *testing.T, addr string, serveN2 bool) (n1, n2 *fwdNode) {
	if addr == "" {
		m, _ := feedRedis(t)
		addr = m.Addr()
	}
	n1 = newFwdNode(t, addr, "n1", true, []string{"b2", "b1"}, map[string]string{"b2": "n2"})
	n2 = newFwdNode(t, addr, "n2", serveN2, []string{"b2", "b1"}, map[string]string{"b1": "n1"})
	return n1, n2
}

// TestForwardedSendIsDeliveredByItsOwner: n1's send routed to b2 is made
// by n2 on its puppet; the result says n2 delivered it, and n2 counts
// it for b2.
func TestForwardedSendIsDeliveredByItsOwner(t *testing.T) {
	testForwardedSendIsDeliveredByItsOwner(t, "")
}

func testForwardedSendIsDeliveredByItsOwner(t *testing.T, addr string) {
	n1, n2 := twoNodes(t, addr, true)
	sd := n1.send("s1")
	assert.Equal(t, actions.Delivered, sd.Outcome)
	assert.Equal(t, "b2", sd.Bot)
	assert.Equal(t, "n2", sd.Node)
	assert.EqualValues(t, 1, n2.puppets["b2"].n.Load())
	assert.Zero(t, n1.puppets["b2"].n.Load(), "n1 never calls a puppet of n2's bot")
	sub := n2.st.Subscribe(1)
	defer sub.Close()
	for n, _ := n2.st.State().Sent.Get("b2"); n != 1; n, _ = n2.st.State().Sent.Get("b2") {
		<-sub.C()
	}

	sd = n1.send("s2") // b1, here
	assert.Equal(t, "n1", sd.Node)
	assert.Equal(t, "b1", sd.Bot)
}

// TestForwardNeverPickedUpIsRetriedElsewhere: n2 does not serve (it died
// before reading): the request is claimed back as not sent, and b1 sends.
func TestForwardNeverPickedUpIsRetriedElsewhere(t *testing.T) {
	testForwardNeverPickedUpIsRetriedElsewhere(t, "")
}

func testForwardNeverPickedUpIsRetriedElsewhere(t *testing.T, addr string) {
	n1, n2 := twoNodes(t, addr, false)
	sd := n1.send("s1")
	assert.Equal(t, actions.Delivered, sd.Outcome)
	assert.Equal(t, []string{"b2"}, sd.Tried)
	assert.Equal(t, "b1", sd.Bot)
	assert.Equal(t, "n1", sd.Node)
	assert.Zero(t, n2.puppets["b2"].n.Load())

	// n2 starts serving later: the request was deleted, so b2 never sends it.
	n2.serve()
	sd = n1.send("s2") // b2 again: delivered by n2
	assert.Equal(t, "n2", sd.Node)
	assert.EqualValues(t, 1, n2.puppets["b2"].n.Load(), "s2 only")
}

// TestOwnerDiesBetweenPickUpAndResult: n2 reads the request and dies
// during the attempt: the send ends with an unknown outcome and is sent
// by no other bot.
func TestOwnerDiesBetweenPickUpAndResult(t *testing.T) { testOwnerDiesBetweenPickUpAndResult(t, "") }

func testOwnerDiesBetweenPickUpAndResult(t *testing.T, addr string) {
	n1, n2 := twoNodes(t, addr, true)
	picked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	n2.puppets["b2"].say = func(ctx context.Context) error {
		once.Do(func() { close(picked) })
		<-release
		return nil
	}
	defer close(release)
	ended := make(chan reducers.Send, 1)
	go func() { ended <- n1.send("s1") }()
	<-picked
	_ = n2.rdb.Close() // n2 is gone: it will never answer
	sd := <-ended
	assert.Equal(t, actions.Unknown, sd.Outcome)
	assert.Equal(t, "b2", sd.Bot)
	assert.Equal(t, "n2", sd.Node)
	assert.Contains(t, sd.Error, "picked the send up")
	assert.Empty(t, sd.Tried)
	assert.Zero(t, n1.puppets["b1"].n.Load(), "never sent twice")
}

// TestOwnerRefusesABotItDoesNotDrive: n1 still thinks n2 drives b2, but
// n2 has lost it: n2 answers "not sent" without calling the puppet, and
// b1 sends.
func TestOwnerRefusesABotItDoesNotDrive(t *testing.T) { testOwnerRefusesABotItDoesNotDrive(t, "") }

func testOwnerRefusesABotItDoesNotDrive(t *testing.T, addr string) {
	n1, n2 := twoNodes(t, addr, true)
	// b2 logged out on n2; n1 has not heard yet.
	require.NoError(t, n2.st.Dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b2", Reason: "kicked"})))
	sd := n1.send("s1")
	assert.Equal(t, actions.Delivered, sd.Outcome)
	assert.Equal(t, []string{"b2"}, sd.Tried)
	assert.Equal(t, "b1", sd.Bot)
	// n2 has lost b2.
	require.NoError(t, n2.st.Dispatch(actions.Released.New(actions.ReleasedPayload{Bot: "b2", Node: "n2"})))
	sd = n1.send("s2") // b2 first again (round robin), then b1
	assert.Equal(t, actions.Delivered, sd.Outcome)
	assert.Equal(t, []string{"b2"}, sd.Tried)
	assert.Equal(t, "b1", sd.Bot)
	assert.Zero(t, n2.puppets["b2"].n.Load())
}

// TestClaimBack: the claim-back script on each state of a request.
func TestClaimBack(t *testing.T) {
	_, rdb := feedRedis(t)
	ctx := context.Background()
	fw, err := NewForwarder(rdb, "n1", ForwardOptions{Prefix: testPrefix})
	require.NoError(t, err)
	key := fw.sendsKey("n2")
	add := func() string {
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"req", "x"}}).Result()
		require.NoError(t, err)
		return id
	}
	a := add()
	got, err := fw.claim(ctx, "n2", a)
	require.NoError(t, err)
	assert.Equal(t, "reclaimed", got, "no group yet: never read")
	assert.Zero(t, rdb.XLen(ctx, key).Val())

	require.NoError(t, rdb.XGroupCreateMkStream(ctx, key, ownersGroup, "0").Err())
	b, c := add(), add()
	_, err = rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: ownersGroup, Consumer: "n2", Streams: []string{key, ">"}, Count: 1}).Result()
	require.NoError(t, err)
	got, _ = fw.claim(ctx, "n2", b)
	assert.Equal(t, "picked", got)
	got, _ = fw.claim(ctx, "n2", c)
	assert.Equal(t, "reclaimed", got)
	require.NoError(t, rdb.XAck(ctx, key, ownersGroup, b).Err())
	require.NoError(t, rdb.XDel(ctx, key, b).Err())
	got, _ = fw.claim(ctx, "n2", b)
	assert.Equal(t, "done", got)
}

// TestForwardStreamsExpire: the request and result streams outlive their
// last write by a bounded time (a dead node's go away); an owner whose
// stream expired serves the next request all the same.
func TestForwardStreamsExpire(t *testing.T) {
	m, rdb := feedRedis(t)
	n1 := newFwdNode(t, m.Addr(), "n1", true, []string{"b2"}, map[string]string{"b2": "n2"})
	n2 := newFwdNode(t, m.Addr(), "n2", true, []string{"b2"}, nil)
	require.Equal(t, actions.Delivered, n1.send("s1").Outcome)
	ctx := context.Background()
	assert.Positive(t, rdb.PTTL(ctx, n1.fw.sendsKey("n2")).Val())
	m.FastForward(n1.fw.streamTTL() + time.Second)
	assert.Zero(t, rdb.Exists(ctx, n1.fw.sendsKey("n2"), n1.fw.resultsKey("n1")).Val(), "gone")
	sd := n1.send("s2")
	assert.Equal(t, actions.Delivered, sd.Outcome, sd.Error)
	assert.EqualValues(t, 2, n2.puppets["b2"].n.Load())
}
