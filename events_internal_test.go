package hawechaty

import (
	"context"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
)

// BenchmarkEventHub is what the events cost the effects epic per action:
// nothing to tell (a dong), and a login, with no Events channel open and
// with one whose reader keeps up.
func BenchmarkEventHub(b *testing.B) {
	st, err := store.New(reducers.Config{}.Defaults().Reducer(), reducers.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "b", Puppet: "mock"})); err != nil {
		b.Fatal(err)
	}
	s := st.State()
	dong := actions.Dong.New(actions.BotPayload{Bot: "b"})
	login := actions.Login.New(actions.LoginPayload{Bot: "b", Self: "wxid"})
	for _, readers := range []int{0, 1} {
		for _, a := range []actions.Action{dong, login} {
			b.Run(map[int]string{0: "channels=0/", 1: "channels=1/"}[readers]+a.Type, func(b *testing.B) {
				h := newEventHub(DefaultEventBuffer)
				defer h.close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				for range readers {
					go func(ch <-chan Event) {
						for range ch {
						}
					}(h.subscribe(ctx))
				}
				handle := h.handler()
				b.ReportAllocs()
				for b.Loop() {
					handle(a, s, nil)
				}
			})
		}
	}
}
