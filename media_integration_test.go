//go:build integration

package hawechaty_test

import (
	"context"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/hawechaty/hawechaty/puppet/wechatyservice/servicetest"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPoolMediaOverRealPuppetServices: two bots on two real puppet
// services, configured from the environment with the HAWechaty name
// "wechaty-puppet-padlocal" for one of them. Every kind of media goes out
// through the pool, each delivered once by one of the services; an image
// a contact posts in the room both bots are in reaches the application
// once, and its file is fetched through the bot that received it.
func TestPoolMediaOverRealPuppetServices(t *testing.T) {
	servers := servicetest.StartWorld(t, 2)
	env := servicetest.Env(servers...)
	env["HA_WECHATY_PUPPET"] = "wechaty-puppet-padlocal:wechaty-puppet-service"
	ctx := context.Background()
	pool, err := hawechaty.FromEnvironment(ctx, func(k string) string { return env[k] }, hawechaty.WithSendTimeout(10*time.Second))
	require.NoError(t, err)
	changes := pool.Store().Subscribe(1 << 16)
	require.NoError(t, pool.Start(ctx))
	defer func() { require.NoError(t, pool.Stop(context.Background())) }()
	eventually(t, 60*time.Second, "both bots available", func() bool { return pool.Health().Available == 2 })

	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, kind := range []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact} {
		m := puppettest.SampleMedia(kind, servicetest.Contact2)
		for _, to := range []string{servicetest.Contact, servicetest.Room} {
			r, err := pool.Send(sctx, to, m)
			require.NoError(t, err, "%s to %s", kind, to)
			eventually(t, 30*time.Second, string(kind)+" delivered", func() bool {
				return servers[0].DeliveredMedia(to, m)+servers[1].DeliveredMedia(to, m) == 1
			})
			assert.Contains(t, pool.State().Bots.Keys(), r.Bot)
		}
	}

	img := puppettest.SampleMedia(puppet.MediaImage, "")
	for _, s := range servers { // one message, seen by both bots
		require.NoError(t, s.PostMedia(servicetest.Contact, servicetest.Room, img, "img-4711"))
	}
	var m hawechaty.Message
	select {
	case m = <-pool.Messages():
	case <-sctx.Done():
		t.Fatal("no image message")
	}
	assert.Equal(t, puppet.MediaImage, m.Kind)
	assert.Equal(t, "img-4711", m.ID)
	file, err := m.File(sctx)
	require.NoError(t, err)
	assert.True(t, puppettest.SameMedia(img, puppet.FileMedia(file)), "%+v", file.Name)
	// Both bots saw it (two bot/MESSAGE actions), and the reducer accepted
	// one of them (the decision the inbox acts on).
	seen, accepted := 0, 0
	for seen < 2 {
		select {
		case c := <-changes.C():
			if p, ok := actions.Message.Match(c.Action); ok && p.MessageID == "img-4711" {
				assert.Equal(t, puppet.MediaImage, p.Kind)
				seen++
				if c.State.AcceptedBy(reducers.SeenKey(p.MessageID, c.Action.Meta.Seq)) == c.Action.Meta.Seq {
					accepted++
				}
			}
		case <-sctx.Done():
			t.Fatalf("the image reached %d bots, want 2", seen)
		}
	}
	assert.Equal(t, 1, accepted, "the image was accepted once")
}
