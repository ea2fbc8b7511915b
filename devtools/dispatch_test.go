package devtools_test

import (
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndpointRemoteDispatchCannotForgeThePool: a monitor with dispatch on
// sends the pool's internal send-completion action, which would make a Say
// return a receipt for a message nobody sent. It is refused, the monitor
// gets an ERROR, and the store sees nothing.
func TestEndpointRemoteDispatchCannotForgeThePool(t *testing.T) {
	st := unitStore(t)
	sub := st.Subscribe(16)
	defer sub.Close()
	e, url := endpointServer(t, st, devtools.WithRemoteDispatch(bump.Type()))
	m := connectMonitor(t, url, map[string]any{})
	start := m.next("START")
	m.next("INIT")
	forged := []string{
		`{ type: 'send/DONE', payload: { id: 'say-1', bot: 'b1', attempts: 1, outcome: 'delivered' } }`,
		`{ type: 'bot/LOGIN', payload: { bot: 'b1', self: 'x' } }`,
		`{ type: '@@store/INIT' }`,
	}
	for _, lit := range forged {
		m.transmitCid("sc-"+start.ID, map[string]any{"type": "ACTION", "action": lit, "instanceId": "pool-1"}, 0)
	}
	m.call("#what", 1) // a round trip: the endpoint has handled what came before
	// The store saw none of them: the next change is ours.
	require.NoError(t, st.Dispatch(bump.New(1)))
	select {
	case ch := <-sub.C():
		assert.Equal(t, bump.Type(), ch.Action.Type, "a monitor dispatched %v", ch.Action)
	case <-time.After(10 * time.Second):
		t.Fatal("no change")
	}
	for _, lit := range forged {
		assert.Contains(t, m.next("ERROR").Payload, "refused", lit)
	}
	assert.Zero(t, e.Stats().Dispatched)
	assert.Equal(t, uint64(3), e.Stats().Refused)
	_ = actions.SendResult
}
