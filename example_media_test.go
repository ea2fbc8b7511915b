package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
)

// Media goes through the pool as text does: an image out, and an image
// in, fetched through the bot that received it. Media that cannot be sent
// is refused before anything is sent.
func ExamplePool_Send() {
	world := mock.NewWorld()
	defer world.Close()
	_ = world.AddContact("alice", "Alice")
	bot, _ := world.AddBot("bot-1")

	pool, _ := hawechaty.New(hawechaty.WithWaitForBot())
	_ = pool.Add(context.Background(), bot)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = pool.Start(ctx)
	defer pool.Stop(context.Background())

	img := puppet.FileMedia(puppet.FileFromBytes("chart.png", []byte("\x89PNG...")))
	r, err := pool.Send(ctx, "alice", img)
	fmt.Println(r.Bot, err)
	for _, d := range world.DeliveredMedia() {
		fmt.Println(d.To, d.Media.Kind, d.Media.File.Name, d.Media.File.MIME)
	}

	_, err = pool.Send(ctx, "alice", puppet.FileMedia(puppet.FileFromBytes("empty.txt", nil)))
	fmt.Println(errors.Is(err, puppet.ErrBadMedia))

	_, _ = world.PostMedia("alice", "bot-1", img)
	m := <-pool.Messages()
	f, err := m.File(ctx)
	fmt.Println(m.From, m.Kind, f.Name, err)
	// Output:
	// bot-1 <nil>
	// alice image chart.png image/png
	// true
	// alice image chart.png <nil>
}

// A send budget of one a minute: the second Say waits for the refill
// within its context, and when the context ends first it is rate limited
// and nothing was sent.
func ExampleWithRateLimit() {
	world := mock.NewWorld()
	defer world.Close()
	_ = world.AddContact("alice", "Alice")
	bot, _ := world.AddBot("bot-1")

	pool, _ := hawechaty.New(hawechaty.WithWaitForBot(), hawechaty.WithRateLimit(1, time.Minute, 1))
	_ = pool.Add(context.Background(), bot)
	_ = pool.Start(context.Background())
	defer pool.Stop(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pool.Say(ctx, "alice", "first")
	fmt.Println(err)

	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	_, err = pool.Say(short, "alice", "second")
	fmt.Println(errors.Is(err, hawechaty.ErrRateLimited), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(len(world.Delivered()))
	// Output:
	// <nil>
	// true true
	// 1
}
