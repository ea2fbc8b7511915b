package mock_test

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
)

func Example() {
	ctx := context.Background()
	w := mock.NewWorld(mock.WithSeed(7))
	defer w.Close()
	_ = w.AddContact("alice", "Alice")
	b1, _ := w.AddBot("bot-1")
	b2, _ := w.AddBot("bot-2")
	_ = w.AddRoom("team", "the team", "alice", "bot-1", "bot-2")
	_ = b1.Start(ctx)
	_ = b2.Start(ctx)
	fmt.Println((<-b1.Events()).Kind, (<-b2.Events()).Kind)

	_, _ = w.Post("alice", "team", "hi")
	m1, m2 := (<-b1.Events()).Message, (<-b2.Events()).Message
	fmt.Println(m1.ID == m2.ID, m1.Text)

	b2.FailSends(true)
	fmt.Println(puppet.Classify(b2.Say(ctx, "alice", "x")))
	fmt.Println(b1.Say(ctx, "team", "hello"), len(w.Delivered()))
	// Output:
	// login login
	// true hi
	// not sent
	// <nil> 1
}
