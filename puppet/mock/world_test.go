package mock_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorldErrors(t *testing.T) {
	w := mock.NewWorld(nil) // a nil option is ignored
	defer w.Close()
	require.NoError(t, w.AddContact("alice", "A"))
	_, err := w.AddBot("b1", nil)
	require.NoError(t, err)
	require.NoError(t, w.AddRoom("r", "topic", "alice"))
	addBot := func(id string) error { _, err := w.AddBot(id); return err }
	post := func(from, to string) func() error {
		return func() error { _, err := w.Post(from, to, "x"); return err }
	}
	tests := []struct {
		name string
		call func() error
		want error
		msg  string
	}{
		{"empty bot ID", func() error { return addBot("") }, mock.ErrInvalidID, "mock: add bot: mock: empty ID"},
		{"empty contact ID", func() error { return w.AddContact("", "x") }, mock.ErrInvalidID, ""},
		{"contact taken", func() error { return w.AddContact("alice", "A") }, mock.ErrExists, `mock: add contact "alice"`},
		{"bot named like a room", func() error { return addBot("r") }, mock.ErrExists, ""},
		{"official account taken", func() error { return addBot(mock.DefaultHeartbeatContact) }, mock.ErrExists, ""},
		{"room with a stranger", func() error { return w.AddRoom("r2", "t", "alice", "nobody") }, mock.ErrUnknown, `member "nobody"`},
		{"join unknown room", func() error { return w.Join("nope", "alice") }, mock.ErrUnknown, ""},
		{"join a stranger", func() error { return w.Join("r", "nobody") }, mock.ErrUnknown, ""},
		{"leave unknown room", func() error { return w.Leave("nope", "alice") }, mock.ErrUnknown, ""},
		{"leave as a non-member", func() error { return w.Leave("r", "b1") }, mock.ErrNotMember, ""},
		{"post from a stranger", post("mallory", "r"), mock.ErrUnknown, `"mallory"`},
		{"post to nowhere", post("alice", "nowhere"), mock.ErrUnknown, `"nowhere"`},
		{"post to a room one is not in", post("b1", "r"), mock.ErrNotMember, ""},
	}
	for _, tt := range tests {
		err := tt.call()
		assert.ErrorIs(t, err, tt.want, tt.name)
		if tt.msg != "" {
			assert.ErrorContains(t, err, tt.msg, tt.name)
		}
	}
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "second Close")
	assert.ErrorIs(t, addBot("late"), mock.ErrClosed)
}

func TestDefaults(t *testing.T) {
	w := mock.NewWorld(mock.WithHeartbeatContact(""), mock.WithDongDelay(-time.Second))
	defer w.Close()
	assert.Equal(t, "gh_051c89260e5d", w.HeartbeatContact())
	w2 := mock.NewWorld(mock.WithHeartbeatContact("gh_other"))
	defer w2.Close()
	assert.Equal(t, "gh_other", w2.HeartbeatContact())
}

func TestPostReachesEveryStartedBotWithOneID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		b3, err := w.AddBot("b3")
		require.NoError(t, err)
		require.NoError(t, w.Join("team", "b3")) // in the room but never started
		up(t, b1)
		up(t, b2)

		id, err := w.Post("alice", "team", "hi all")
		require.NoError(t, err)
		m1, m2 := next(t, b1).Message, next(t, b2).Message
		for _, m := range []*puppet.Message{m1, m2} {
			assert.Equal(t, id, m.ID)
			assert.Equal(t, "alice", m.From)
			assert.Equal(t, "team", m.Conversation())
			assert.Equal(t, "hi all", m.Text)
			assert.Equal(t, time.Now(), m.Time)
		}
		assert.True(t, quiet(b3), "a stopped bot sees nothing")

		id2, err := w.Post("alice", "b2", "just you")
		require.NoError(t, err)
		assert.NotEqual(t, id, id2)
		m := next(t, b2).Message
		assert.Equal(t, id2, m.ID)
		assert.Equal(t, "b2", m.To)
		assert.Equal(t, "alice", m.Conversation())
		assert.True(t, quiet(b1), "a direct message reaches only its bot")
	})
}

func TestBotsSeeEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		up(t, b1)
		up(t, b2)
		require.NoError(t, b1.Say(t.Context(), "team", "from b1"))
		m := next(t, b2).Message
		assert.Equal(t, "b1", m.From)
		assert.Equal(t, "team", m.Room)
		require.NoError(t, b2.Say(t.Context(), "b1", "psst"))
		m2 := next(t, b1).Message
		assert.Equal(t, "b2", m2.Conversation())
		assert.True(t, quiet(b1), "the sender does not see its own room message")

		d := w.Delivered()
		require.Len(t, d, 2)
		assert.Equal(t, mock.Delivery{Bot: "b1", To: "team", Text: "from b1", MessageID: m.ID, Time: time.Now()}, d[0])
		assert.Equal(t, m2.ID, d[1].MessageID)
	})
}

func TestRoomsContactsAndMembership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, _ := world(t)
		_, err := b1.Rooms(t.Context())
		assert.Equal(t, puppet.NotSent, puppet.Classify(err), "a stopped bot cannot list")
		up(t, b1)
		require.NoError(t, w.AddContact("bob", "Bob"))
		require.NoError(t, w.AddRoom("other", "no bots", "bob"))

		rooms, err := b1.Rooms(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []puppet.Room{{ID: "team", Topic: "the team", Members: []string{"alice", "b1", "b2"}}}, rooms)
		rooms[0].Members[0] = "scribbled"
		again, _ := b1.Rooms(t.Context())
		assert.Equal(t, "alice", again[0].Members[0], "callers get copies")

		contacts, err := b1.Contacts(t.Context())
		require.NoError(t, err)
		var ids []string
		for _, c := range contacts {
			ids = append(ids, c.ID)
		}
		assert.Equal(t, []string{"gh_051c89260e5d", "alice", "bob", "b2"}, ids)

		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "other", "x")))
		assert.ErrorIs(t, b1.Say(t.Context(), "other", "x"), mock.ErrNotMember)
		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "nowhere", "x")))
		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "", "x")))

		require.NoError(t, w.Join("other", "b1"))
		require.NoError(t, w.Join("other", "b1"), "joining twice is a no-op")
		require.NoError(t, b1.Say(t.Context(), "other", "joined"))
		require.NoError(t, w.Leave("other", "b1"))
		assert.Equal(t, puppet.Permanent, puppet.Classify(b1.Say(t.Context(), "other", "left")))
		assert.Equal(t, []string{"b1>other:joined"}, texts(w.Delivered()))
	})
}

func TestOfficialAccountAnswersDing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t, mock.WithDongDelay(3*time.Second))
		up(t, b1)
		up(t, b2)
		start := time.Now()
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding"))
		m := next(t, b1).Message
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.Equal(t, "dong", m.Text)
		assert.Equal(t, w.HeartbeatContact(), m.From)
		assert.Empty(t, m.Room)
		assert.True(t, quiet(b2), "the dong goes only to the bot that dinged")

		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "hello"))
		time.Sleep(time.Minute)
		assert.True(t, quiet(b1), "only ding is answered")
	})
}

func TestPuppetDing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b1, _ := world(t, mock.WithDingDelay(2*time.Second))
		assert.Equal(t, puppet.NotSent, puppet.Classify(b1.Ding(t.Context(), "x")), "not logged in")
		up(t, b1)
		start := time.Now()
		require.NoError(t, b1.Ding(t.Context(), "probe"))
		ev := next(t, b1)
		assert.Equal(t, puppet.EventDong, ev.Kind)
		assert.Equal(t, "probe", ev.Data)
		assert.Equal(t, 2*time.Second, time.Since(start))

		require.NoError(t, b1.Ding(t.Context(), "lost"))
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b1).Kind)
		assert.Equal(t, puppet.EventLogin, next(t, b1).Kind)
		time.Sleep(time.Minute)
		assert.True(t, quiet(b1), "a ding from before a reset is not answered")
	})
}

func TestScanAndLoginDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		require.NoError(t, w.AddContact("alice", "Alice"))
		b, err := w.AddBot("b", mock.WithScan("qr://b"), mock.WithLoginDelay(10*time.Second))
		require.NoError(t, err)

		start := time.Now()
		require.NoError(t, b.Start(t.Context()))
		ev := next(t, b)
		assert.Equal(t, puppet.EventScan, ev.Kind)
		assert.Equal(t, "qr://b", ev.Data)
		assert.False(t, b.LoggedIn())
		assert.Equal(t, puppet.NotSent, puppet.Classify(b.Say(t.Context(), "alice", "too early")))
		ev = next(t, b)
		assert.Equal(t, puppet.EventLogin, ev.Kind)
		assert.Equal(t, "b", ev.Self)
		assert.Equal(t, 10*time.Second, time.Since(start))
		assert.True(t, b.LoggedIn())

		// Reset before the scan is done: the login counts from the new Start.
		require.NoError(t, b.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b).Kind)
		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, puppet.EventScan, next(t, b).Kind)
		time.Sleep(5 * time.Second)
		require.NoError(t, b.Stop(t.Context()))
		require.NoError(t, b.Start(t.Context()))
		restart := time.Now()
		assert.Equal(t, puppet.EventScan, next(t, b).Kind)
		assert.Equal(t, puppet.EventLogin, next(t, b).Kind)
		assert.Equal(t, 10*time.Second, time.Since(restart))

		// Stopped before the scan is done: no login comes later.
		require.NoError(t, b.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b).Kind)
		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, puppet.EventScan, next(t, b).Kind)
		require.NoError(t, b.Stop(t.Context()))
		time.Sleep(time.Minute)
		assert.True(t, quiet(b))
	})
}

func TestEventsLiveAcrossResetsAndNeverBlockTheWorld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		ch := b1.Events()
		up(t, b2)
		require.NoError(t, b1.Start(t.Context()))
		// Nobody reads b1: the world goes on, and b1 keeps everything.
		const n = 1000
		for range n {
			_, err := w.Post("alice", "team", "flood")
			require.NoError(t, err)
			assert.Equal(t, "flood", next(t, b2).Message.Text)
		}
		require.NoError(t, b1.Stop(t.Context()))
		require.NoError(t, b1.Start(t.Context()))
		assert.Equal(t, ch, b1.Events())
		var kinds []puppet.EventKind
		for range n + 3 {
			kinds = append(kinds, next(t, b1).Kind)
		}
		assert.Equal(t, puppet.EventLogin, kinds[0])
		assert.Equal(t, puppet.EventMessage, kinds[n])
		assert.Equal(t, []puppet.EventKind{puppet.EventLogout, puppet.EventLogin}, kinds[n+1:])
		assert.True(t, quiet(b1))
	})
}

func TestCloseEndsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		b3, err := w.AddBot("b3", mock.WithLoginDelay(time.Hour))
		require.NoError(t, err)
		up(t, b1)
		up(t, b2)
		require.NoError(t, b3.Start(t.Context()))
		b1.Flap(time.Minute)
		require.NoError(t, b1.Say(t.Context(), w.HeartbeatContact(), "ding")) // a dong is due
		b2.Hang(true)
		hung := make(chan error)
		go func() { hung <- b2.Say(t.Context(), "alice", "forever") }() // t.Context never ends here
		synctest.Wait()

		require.NoError(t, w.Close())
		assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(<-hung), "Close ends a hung send")
		for _, b := range []*mock.Bot{b1, b2, b3} {
			for range b.Events() {
			}
			assert.ErrorIs(t, b.Start(t.Context()), mock.ErrClosed)
			assert.Equal(t, puppet.NotSent, puppet.Classify(b.Say(t.Context(), "alice", "x")))
			assert.NoError(t, b.Close())
		}
		// synctest.Test fails if a timer goroutine or pump outlives this.
	})
}

func TestClosedBotsIDCanBeTakenAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b1, b2 := world(t)
		_, err := w.AddBot("b1")
		assert.ErrorIs(t, err, mock.ErrExists, "b1 is alive")
		require.NoError(t, b1.Close())
		again, err := w.AddBot("b1")
		require.NoError(t, err)
		assert.NotSame(t, b1, again)
		got, _ := w.Bot("b1")
		assert.Same(t, again, got)
		up(t, again)
		up(t, b2)
		_, err = w.Post("alice", "team", "still here?")
		require.NoError(t, err)
		assert.Equal(t, "still here?", next(t, again).Message.Text, "the new bot keeps the room")
		contacts, err := b2.Contacts(t.Context())
		require.NoError(t, err)
		assert.Len(t, contacts, 3, "official, alice, b1 once")
	})
}

// WithHeartbeat: EventHeartbeat every period while the bot is started,
// logged in or not (as the puppet service forwards them), none before
// Start, while dead, or after Stop.
func TestHeartbeatWhileStartedLoggedInOrNot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		b, err := w.AddBot("b", mock.WithHeartbeat(30*time.Second))
		require.NoError(t, err)
		time.Sleep(time.Minute)
		assert.True(t, quiet(b), "no heartbeat before Start")

		start := time.Now()
		up(t, b)
		assert.Equal(t, puppet.EventHeartbeat, next(t, b).Kind)
		assert.Equal(t, 30*time.Second, time.Since(start))
		b.LogOut()
		assert.Equal(t, puppet.EventLogout, next(t, b).Kind)
		assert.Equal(t, puppet.EventHeartbeat, next(t, b).Kind, "logged out, the connection still beats")
		assert.Equal(t, time.Minute, time.Since(start))
		assert.False(t, b.LoggedIn())

		b.Die()
		time.Sleep(2 * time.Minute)
		assert.True(t, quiet(b), "a dead bot does not beat")
		require.NoError(t, b.Stop(t.Context()))
		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, puppet.EventLogin, next(t, b).Kind)
		restart := time.Now()
		assert.Equal(t, puppet.EventHeartbeat, next(t, b).Kind, "a reset brings the beat back")
		assert.Equal(t, 30*time.Second, time.Since(restart))

		require.NoError(t, b.Stop(t.Context()))
		assert.Equal(t, puppet.EventLogout, next(t, b).Kind)
		time.Sleep(time.Minute)
		assert.True(t, quiet(b), "no heartbeat after Stop")
	})
}
