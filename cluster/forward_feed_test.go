package cluster

import (
	"context"
	"fmt"
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

// wired is a process with every hook of the feed helper wired as the
// pool wires them: the reducer's node, the publishing epic, the inbound
// middleware, the forwarder in the send epic's Deps, and the follower and
// the forwarder's loops.
type wired struct {
	node    string
	st      *store.Store[reducers.Pool]
	feed    *Feed
	puppets map[string]*sayer
}

func newWired(t *testing.T, rdb redis.UniversalClient, node string, bots ...string) *wired {
	t.Helper()
	w := &wired{node: node, puppets: map[string]*sayer{}}
	feed, err := NewFeed(rdb, node, FeedOptions{Prefix: testPrefix})
	require.NoError(t, err)
	fw, err := NewForwarder(rdb, node, fwdTiming)
	require.NoError(t, err)
	in, err := NewInbound(rdb, node, InboundOptions{Prefix: testPrefix})
	require.NoError(t, err)
	w.feed = feed
	lookup := func(b string) (puppet.Puppet, bool) { p, ok := w.puppets[b]; return p, ok }
	cfg := reducers.Config{Node: node, SendTimeout: fwdTiming.SendTimeout}.Defaults()
	deps := epics.Deps{Puppet: lookup, Forward: fw}
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithMiddleware(InboundMiddleware(in, identity)),
		store.WithEpic("publish", PublishEpic(feed, identity)),
		store.WithEpic("effects", epics.Effect(identity, epics.Send(cfg, deps), epics.Health(), epics.Inbox(deps))))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	w.st = st
	for _, b := range bots {
		w.puppets[b] = &sayer{name: b}
		require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b, Puppet: "sayer"})))
	}
	ctx, cancel := context.WithCancel(context.Background())
	followed, served := make(chan error, 1), make(chan error, 1)
	go func() { followed <- feed.Follow(ctx, st.Dispatch) }()
	go func() { served <- fw.Run(ctx, Owner{State: st.State, Puppet: lookup, Dispatch: st.Dispatch}) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-followed)
		assert.NoError(t, <-served)
		st.Stop()
	})
	return w
}

func (w *wired) waitFor(t *testing.T, what string, cond func(reducers.Pool) bool) {
	t.Helper()
	sub := w.st.Subscribe(1)
	defer sub.Close()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond(w.st.State()) {
		select {
		case <-sub.C():
		case <-deadline.C:
			t.Fatalf("%s: %s never came", w.node, what)
		}
	}
}

// TestTwoProcessesOnePool: n1 drives b1, n2 drives b2, each process
// registered only its own bot. Through the feed each store holds both;
// n1's sends go round robin over both bots, b2's made by n2 and named so
// in the result; when b2 logs out on n2, n1 sends through b1 alone.
func TestTwoProcessesOnePool(t *testing.T) {
	_, rdb := feedRedis(t)
	n1 := newWired(t, rdb, "n1", "b1")
	n2 := newWired(t, rdb, "n2", "b2")
	holdLease(t, rdb, "b1", "n1", 1)
	holdLease(t, rdb, "b2", "n2", 1)
	require.NoError(t, n1.feed.Own(context.Background(), n1.st.Dispatch, "b1", 1))
	require.NoError(t, n2.feed.Own(context.Background(), n2.st.Dispatch, "b2", 1))
	require.NoError(t, n1.st.Dispatch(login("b1")))
	require.NoError(t, n2.st.Dispatch(login("b2")))
	n1.waitFor(t, "b2 up", available("b2"))
	n2.waitFor(t, "b1 up", available("b1"))
	assert.Equal(t, []string{"b1", "b2"}, n1.st.State().Bots.Keys())
	assert.Equal(t, []string{"b2", "b1"}, n2.st.State().Bots.Keys(), "each process's pool in the order it learnt of the bots")

	byNode := map[string]int{}
	for i := range 10 {
		id := fmt.Sprintf("s%d", i)
		require.NoError(t, n1.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: "alice", Text: "hi"})))
		n1.waitFor(t, id+" ended", func(s reducers.Pool) bool { sd, ok := s.Sends.Get(id); return ok && sd.Outcome.Done() })
		sd, _ := n1.st.State().Sends.Get(id)
		require.Equal(t, actions.Delivered, sd.Outcome, sd.Error)
		byNode[sd.Bot+"@"+sd.Node]++
	}
	assert.Equal(t, map[string]int{"b1@n1": 5, "b2@n2": 5}, byNode)
	assert.EqualValues(t, 5, n2.puppets["b2"].n.Load())
	assert.EqualValues(t, 5, n1.puppets["b1"].n.Load())

	require.NoError(t, n2.st.Dispatch(actions.Logout.New(actions.ReasonPayload{Bot: "b2", Reason: "kicked"})))
	n1.waitFor(t, "b2 down", func(s reducers.Pool) bool { return !available("b2")(s) })
	for i := range 4 {
		id := fmt.Sprintf("t%d", i)
		require.NoError(t, n1.st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: "alice", Text: "hi"})))
		n1.waitFor(t, id+" ended", func(s reducers.Pool) bool { sd, ok := s.Sends.Get(id); return ok && sd.Outcome.Done() })
		sd, _ := n1.st.State().Sends.Get(id)
		assert.Equal(t, "b1", sd.Bot)
		assert.Empty(t, sd.Tried, "b2 is out of rotation in n1 too")
	}
	assert.EqualValues(t, 5, n2.puppets["b2"].n.Load())
}
