package hawechaty_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

// App is an application's state: the pool is one slice of it.
type App struct {
	Pool   reducers.Pool
	Counts reducers.Table[int] // inbound messages per contact
	Quiet  int                 // quiet spells after a burst of messages
}

// The application's own action.
var quiet = actions.Define[actions.Empty]("app/QUIET")

// countMessages counts what the application sees: one inbox/ACCEPTED per
// message, however many bots saw it.
var countMessages = reducers.On(actions.MessageAccepted, func(c reducers.Table[int], m actions.MessagePayload, _ actions.Meta) reducers.Table[int] {
	n, _ := c.Get(m.From)
	return c.Set(m.From, n+1)
})

var countQuiet = reducers.On(quiet, func(n int, _ actions.Empty, _ actions.Meta) int { return n + 1 })

// quietAfter is an epic with a timer: 50 ms after the last accepted
// message, app/QUIET.
func quietAfter(_ context.Context, in rxgo.Observable, _ store.StateStream[App]) rxgo.Observable {
	return rx.SwitchMap(rx.OfType(in, actions.MessageAccepted.Type()), func(context.Context, any) rxgo.Observable {
		return rx.Timer(50*time.Millisecond, quiet.New(actions.Empty{}))
	})
}

// busiest is a memoized selector over the application's slice.
var busiest = selectors.Create1(func(s App) reducers.Table[int] { return s.Counts }, func(c reducers.Table[int]) string {
	best, most := "", 0
	for id, n := range c.All() {
		if n > most {
			best, most = id, n
		}
	}
	return best
})

// The pool as one slice of an application's store, beside the
// application's own reducer, epic and selector.
func Example_ownState() {
	world := mock.NewWorld()
	defer world.Close()
	_ = world.AddContact("alice", "Alice")
	_ = world.AddContact("bob", "Bob")
	bot, _ := world.AddBot("bot-1")

	sl, _ := hawechaty.NewSlice(
		func(s App) reducers.Pool { return s.Pool },
		func(s *App, p reducers.Pool) { s.Pool = p })
	st, _ := store.New(reducers.Combine(
		sl.Reducer(),
		reducers.Field(func(s App) reducers.Table[int] { return s.Counts }, func(s *App, c reducers.Table[int]) { s.Counts = c }, countMessages),
		reducers.Field(func(s App) int { return s.Quiet }, func(s *App, n int) { s.Quiet = n }, countQuiet),
	), App{}, append(sl.StoreOptions(), store.WithEpic("quiet", quietAfter))...)
	pool, _ := sl.Bind(st)

	ctx := context.Background()
	_ = pool.Add(ctx, bot)
	_ = pool.Start(ctx)
	defer pool.Stop(ctx)

	changes := st.Subscribe(64)
	for st.State().Pool.Available == 0 {
		<-changes.C()
	}
	for i, from := range []string{"alice", "bob", "alice"} {
		// Texts differ: the same text from one sender within 30 s is taken
		// for one message (WithFingerprint).
		_, _ = world.Post(from, "bot-1", fmt.Sprint("hello #", i+1))
	}
	for st.State().Quiet == 0 {
		<-changes.C()
	}
	s := st.State()
	alice, _ := s.Counts.Get("alice")
	bob, _ := s.Counts.Get("bob")
	fmt.Println("alice:", alice, "bob:", bob, "busiest:", busiest.Select(s))
	if r, err := pool.Say(ctx, busiest.Select(s), "thanks for writing"); err == nil {
		fmt.Println("replied through", r.Bot)
	}
	// Output:
	// alice: 2 bob: 1 busiest: alice
	// replied through bot-1
}
