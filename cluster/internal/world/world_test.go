package world

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// as is a call by process node on account.
func as(node, account string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(
		"authorization", "Wechaty "+Token(account), "user-agent", node+" grpc-go/1.85.0"))
}

func say(w *World, node, account, text string) error {
	_, err := w.MessageSendText(as(node, account), &pbp.MessageSendTextRequest{ConversationId: Contact, Text: text})
	return err
}

// The instrument of the suite: who drives, who was kicked, who acted
// while another drove.
func TestTheWorldCountsDrivers(t *testing.T) {
	w := New("acct-0")
	assert.Equal(t, codes.FailedPrecondition, status.Code(say(w, "r0", "acct-0", "before")), "no driver yet")
	assert.Len(t, w.Status().Accounts["acct-0"].Stale, 1, "a send with no driver at all is stale")

	_, err := w.Start(as("r0", "acct-0"), &pbp.StartRequest{})
	require.NoError(t, err)
	require.NoError(t, say(w, "r0", "acct-0", "one"))
	_, err = w.Start(as("r1", "acct-0"), &pbp.StartRequest{})
	require.NoError(t, err)
	err = say(w, "r0", "acct-0", "late")
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "the kicked process cannot send")
	_, err = w.Stop(as("r0", "acct-0"), &pbp.StopRequest{})
	require.NoError(t, err)

	st := w.Status()
	a := st.Accounts["acct-0"]
	assert.Equal(t, "r1", a.Driver, "a Stop by a process that no longer drives changes nothing")
	require.Len(t, a.Kicks, 1)
	assert.Equal(t, Kick{From: "r0", To: "r1", At: a.Kicks[0].At}, a.Kicks[0])
	require.Len(t, a.Stale, 2)
	assert.Equal(t, "r0", a.Stale[1].Node)
	assert.Equal(t, "r1", a.Stale[1].Driver)
	assert.Equal(t, []string{"r0", "r1"}, []string{a.Starts[0].Node, a.Starts[1].Node})
	require.Len(t, st.Delivered, 1)
	assert.Equal(t, Delivery{Account: "acct-0", Node: "r0", To: Contact, Text: "one", At: st.Delivered[0].At}, st.Delivered[0])

	_, err = w.Start(context.Background(), &pbp.StartRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = w.Start(as("r0", "nobody"), &pbp.StartRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}
