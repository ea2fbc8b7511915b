package mock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
)

func Example() {
	ctx := context.Background()
	w := mock.NewWorld(mock.WithSeed(7), mock.WithDongDelay(time.Millisecond))
	defer w.Close()
	_ = w.AddContact("alice", "Alice")
	b1, _ := w.AddBot("bot-1")
	b2, _ := w.AddBot("bot-2")
	_ = w.AddRoom("team", "the team", "alice", "bot-1", "bot-2")
	_ = b1.Start(ctx)
	_ = b2.Start(ctx)
	fmt.Println((<-b1.Events()).Kind, (<-b2.Events()).Kind)

	// One message, seen by both bots under one ID.
	id, _ := w.Post("alice", "team", "hi")
	m1, m2 := (<-b1.Events()).Message, (<-b2.Events()).Message
	fmt.Println(m1.ID == id, m2.ID == id, m1.Text)

	// The official account answers ding.
	_ = b1.Say(ctx, w.HeartbeatContact(), "ding")
	dong := (<-b1.Events()).Message
	fmt.Println(dong.From, dong.Text)

	// Faults: not sent, and the ambiguous hang.
	b2.FailSends(true)
	fmt.Println(puppet.Classify(b2.Say(ctx, "alice", "x")))
	b1.Hang(true)
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	fmt.Println(puppet.Classify(b1.Say(short, "alice", "maybe")))

	for _, d := range w.Delivered() {
		fmt.Println(d.Bot, "->", d.To+":", d.Text)
	}
	// Output:
	// login login
	// true true hi
	// gh_051c89260e5d dong
	// not sent
	// outcome unknown
	// bot-1 -> gh_051c89260e5d: ding
	// bot-1 -> alice: maybe
}

// ExampleBot_Flap: a flapping bot logs out and in until ClearFaults (here
// in real time, with a tiny period).
func ExampleBot_Flap() {
	w := mock.NewWorld(mock.WithSeed(1))
	defer w.Close()
	b, _ := w.AddBot("bot")
	_ = b.Start(context.Background())
	b.Flap(time.Millisecond)
	for range 5 {
		fmt.Print((<-b.Events()).Kind, " ")
	}
	b.ClearFaults()
	fmt.Println()
	// Output:
	// login logout login logout login
}
