package mock_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func world(t *testing.T, opts ...mock.Option) (*mock.World, *mock.Bot, *mock.Bot) {
	t.Helper()
	w := mock.NewWorld(opts...)
	t.Cleanup(func() { _ = w.Close() })
	require.NoError(t, w.AddContact("alice", "Alice"))
	b1, err := w.AddBot("b1")
	require.NoError(t, err)
	b2, err := w.AddBot("b2")
	require.NoError(t, err)
	require.NoError(t, w.AddRoom("team", "the team", "alice", "b1", "b2"))
	return w, b1, b2
}

func TestConformance(t *testing.T) {
	puppettest.Run(t, puppettest.Harness{
		New: func(t *testing.T) puppettest.Subject {
			w, b1, _ := world(t, mock.WithDongDelay(10*time.Millisecond), mock.WithDingDelay(10*time.Millisecond))
			return puppettest.Subject{
				Puppet:           b1,
				HeartbeatContact: w.HeartbeatContact(),
				Room:             "team",
				Contact:          "alice",
				Post: func(conv, text string) error {
					if conv == "" {
						conv = "b1"
					}
					_, err := w.Post("alice", conv, text)
					return err
				},
				Delivered: func(to, text string) bool {
					return slices.ContainsFunc(w.Delivered(), func(d mock.Delivery) bool { return d.To == to && d.Text == text })
				},
			}
		},
		Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true},
	})
}

// next returns the next event, failing after a virtual minute.
func next(t *testing.T, b *mock.Bot) puppet.Event {
	t.Helper()
	select {
	case ev := <-b.Events():
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event")
		return puppet.Event{}
	}
}

func TestRoomMessageReachesEveryBotWithOneID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		require.NoError(t, b1.Start(t.Context()))
		require.NoError(t, b2.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)
		assert.Equal(t, puppet.EventLogin, next(t, b2).Kind)
		id, err := w.Post("alice", "team", "hi all")
		require.NoError(t, err)
		m1, m2 := next(t, b1).Message, next(t, b2).Message
		assert.Equal(t, id, m1.ID)
		assert.Equal(t, id, m2.ID)
		assert.Equal(t, "team", m1.Conversation())
		_, err = w.Post("mallory", "team", "x")
		assert.ErrorIs(t, err, mock.ErrUnknown)
	})
}

// quiet reports that no event is waiting once the bubble is idle.
func quiet(b *mock.Bot) bool {
	synctest.Wait()
	select {
	case <-b.Events():
		return false
	default:
		return true
	}
}

func TestDieIsSilentUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		require.NoError(t, b1.Start(t.Context()))
		next(t, b1)
		b1.Die()

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		start := time.Now()
		err := b1.Say(ctx, "alice", "lost")
		cancel()
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))
		assert.Equal(t, 5*time.Second, time.Since(start), "a dead bot's send hangs until the deadline")
		require.NoError(t, b1.Ding(t.Context(), "x"))
		_, err = w.Post("alice", "b1", "hello?")
		require.NoError(t, err)
		time.Sleep(10 * time.Second)
		assert.True(t, quiet(b1), "no message, no dong")
		assert.Empty(t, w.Delivered())

		require.NoError(t, b1.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind, "stopping is local: the puppet reports it")
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind, "a reset brings it back")
		require.NoError(t, b1.Say(t.Context(), "alice", "back"))
		assert.Len(t, w.Delivered(), 1)
	})
}

func TestKillSurvivesResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t)
		require.NoError(t, b1.Start(t.Context()))
		next(t, b1)
		b1.Kill()
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind)
		assert.True(t, quiet(b1), "no login after the reset")
		b1.Revive()
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)
	})
}

func TestSendFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		require.NoError(t, b1.Start(t.Context()))
		require.NoError(t, b2.Start(t.Context()))

		b1.FailSends(true)
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Say(t.Context(), "alice", "a")))
		b1.FailSends(false)

		b1.Hang(true) // delivered, then hangs: the ambiguous case
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(b1.Say(ctx, "alice", "maybe")))
		cancel()
		b1.ClearFaults()

		b2.SetLatency(3 * time.Second)
		start := time.Now()
		require.NoError(t, b2.Say(t.Context(), "team", "slow"))
		assert.Equal(t, 3*time.Second, time.Since(start))

		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "nowhere", "x")))
		require.NoError(t, w.AddRoom("private", "not for bots", "alice"))
		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "private", "x")))

		b1.LogOut()
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Say(t.Context(), "alice", "x")))

		var texts []string
		for _, d := range w.Delivered() {
			texts = append(texts, d.Bot+">"+d.To+":"+d.Text)
		}
		assert.Equal(t, []string{"b1>alice:maybe", "b2>team:slow"}, texts)

		b2.FailStart(1)
		require.NoError(t, b2.Stop(t.Context()))
		assert.Error(t, b2.Start(t.Context()))
		assert.NoError(t, b2.Start(t.Context()))
	})
}

func TestDropInboundLosesDongs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		require.NoError(t, b1.Start(t.Context()))
		next(t, b1)
		b1.DropInbound(true)
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding"))
		time.Sleep(5 * time.Second)
		assert.True(t, quiet(b1))
		b1.DropInbound(false)
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding"))
		start := time.Now()
		ev := next(t, b1)
		assert.Equal(t, "dong", ev.Message.Text)
		assert.Equal(t, time.Second, time.Since(start), "the official account answers after its delay")
	})
}

// flapTimeline returns when the bot logged in and out over ten virtual
// minutes.
func flapTimeline(t *testing.T, seed uint64) []string {
	var out []string
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t, mock.WithSeed(seed))
		require.NoError(t, b1.Start(t.Context()))
		next(t, b1)
		start := time.Now()
		b1.Flap(30 * time.Second)
		deadline := time.After(10 * time.Minute)
		for {
			select {
			case ev := <-b1.Events():
				out = append(out, time.Since(start).String()+" "+ev.Kind.String())
			case <-deadline:
				b1.ClearFaults()
				return
			}
		}
	})
	return out
}

func TestFlapIsReproducibleWithASeed(t *testing.T) {
	a, b, c := flapTimeline(t, 7), flapTimeline(t, 7), flapTimeline(t, 8)
	assert.Equal(t, a, b, "same seed, same timeline")
	assert.NotEqual(t, a, c, "another seed, another timeline")
	assert.Greater(t, len(a), 10, "it flaps: %v", a)
}

func TestWorldErrors(t *testing.T) {
	w := mock.NewWorld()
	defer w.Close()
	_, err := w.AddBot("")
	assert.ErrorIs(t, err, mock.ErrExists)
	require.NoError(t, w.AddContact("alice", "A"))
	assert.ErrorIs(t, w.AddContact("alice", "A"), mock.ErrExists)
	assert.ErrorIs(t, w.AddRoom("r", "t", "nobody"), mock.ErrUnknown)
	assert.ErrorIs(t, w.Join("nope", "alice"), mock.ErrUnknown)
	_, err = w.Post("alice", "nowhere", "x")
	assert.True(t, errors.Is(err, mock.ErrUnknown))
}
