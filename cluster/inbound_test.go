package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inboxNode is a process whose store claims inbound messages and
// delivers the accepted ones.
type inboxNode struct {
	st *store.Store[reducers.Pool]
	in *Inbound

	mu        sync.Mutex
	delivered []string
}

func newInboxNode(t *testing.T, rdb redis.UniversalClient, node string, bots []string, owners map[string]string) *inboxNode {
	t.Helper()
	// A claim Redis does not answer in time is accepted (twice rather
	// than never): on a loaded machine, 300 claims at once must not time
	// out for this test's count to hold.
	in, err := NewInbound(rdb, node, InboundOptions{Prefix: testPrefix, Timeout: time.Minute})
	require.NoError(t, err)
	n := &inboxNode{in: in}
	deps := epics.Deps{Deliver: func(m actions.MessagePayload) {
		n.mu.Lock()
		n.delivered = append(n.delivered, m.MessageID)
		n.mu.Unlock()
	}}
	cfg := reducers.Config{Node: node}.Defaults()
	st, err := store.New(cfg.Reducer(), reducers.Pool{},
		store.WithMiddleware(InboundMiddleware(in, identity)),
		store.WithEpic("effects", epics.Effect(identity, epics.Inbox(deps))))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	t.Cleanup(st.Stop)
	n.st = st
	for i, b := range bots {
		require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b})))
		own := actions.Owned.New(actions.OwnedPayload{Bot: b, Node: owners[b], Token: uint64(i + 1)})
		if owners[b] != node {
			own.Meta.Node, own.Meta.Token = owners[b], uint64(i+1)
		}
		require.NoError(t, st.Dispatch(own))
	}
	return n
}

func (n *inboxNode) seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.delivered...)
}

// TestInboundOnceClusterWide: b1 and b3 (driven by n1) and b2 (by n2) sit
// in one room; every message reaches all three bots at once; the
// application, across both processes, sees each message once.
func TestInboundOnceClusterWide(t *testing.T) {
	_, rdb := feedRedis(t)
	testInboundOnceClusterWide(t, rdb)
}

func testInboundOnceClusterWide(t *testing.T, rdb redis.UniversalClient) {
	bots := []string{"b1", "b2", "b3"}
	owners := map[string]string{"b1": "n1", "b2": "n2", "b3": "n1"}
	n1 := newInboxNode(t, rdb, "n1", bots, owners)
	n2 := newInboxNode(t, rdb, "n2", bots, owners)
	const msgs = 100
	var wg sync.WaitGroup
	for i := range msgs {
		for _, b := range bots {
			st := n1.st
			if owners[b] == "n2" {
				st = n2.st
			}
			wg.Go(func() {
				assert.NoError(t, st.Dispatch(actions.Message.New(actions.MessagePayload{
					Bot: b, MessageID: fmt.Sprintf("m%d", i), From: "carol", Room: "r1", Text: fmt.Sprintf("hi %d", i)})))
			})
		}
	}
	wg.Wait()
	accepted := func() int { return n1.st.State().Accepted + n2.st.State().Accepted }
	sub1, sub2 := n1.st.Subscribe(1), n2.st.Subscribe(1)
	defer sub1.Close()
	defer sub2.Close()
	deadline := time.After(10 * time.Second)
	for accepted() < msgs {
		select {
		case <-sub1.C():
		case <-sub2.C():
		case <-deadline:
			t.Fatalf("accepted %d of %d", accepted(), msgs)
		}
	}
	all := append(n1.seen(), n2.seen()...)
	count := map[string]int{}
	for _, id := range all {
		count[id]++
	}
	assert.Len(t, count, msgs)
	for id, n := range count {
		assert.Equal(t, 1, n, "%s delivered %d times", id, n)
	}
	assert.Len(t, all, msgs)
	assert.Zero(t, n1.in.Unsure()+n2.in.Unsure(), "every claim answered")
	t.Logf("n1 delivered %d, n2 %d", len(n1.seen()), len(n2.seen()))
	for _, b := range bots {
		st := n1.st
		if owners[b] == "n2" {
			st = n2.st
		}
		bb, _ := st.State().Bots.Get(b)
		assert.False(t, bb.LastSeen.IsZero(), "%s: every copy is a sign of life", b)
	}
}

// TestInboundClaimWithoutRedisAccepts: a claim Redis cannot answer
// accepts the message here (twice rather than never).
func TestInboundClaimWithoutRedisAccepts(t *testing.T) {
	m, rdb := feedRedis(t)
	in, err := NewInbound(rdb, "n1", InboundOptions{Prefix: testPrefix, Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	assert.True(t, in.Claim(context.Background(), "m1"))
	assert.False(t, in.Claim(context.Background(), "m1"), "claimed already")
	m.Close()
	assert.True(t, in.Claim(context.Background(), "m1"), "Redis is gone: accept")
	assert.EqualValues(t, 1, in.Unsure())
	_, err = NewInbound(rdb, "a|b", InboundOptions{})
	assert.Error(t, err)
}
