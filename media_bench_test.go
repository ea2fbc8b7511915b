package hawechaty_test

import (
	"context"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
)

// instantMedia is instant with the media capabilities.
type instantMedia struct{ *instant }

func (instantMedia) SendFile(context.Context, string, puppet.FileBox) error { return nil }
func (instantMedia) SendURL(context.Context, string, puppet.URLLink) error  { return nil }
func (instantMedia) SendContact(context.Context, string, string) error      { return nil }

// BenchmarkSendMedia compares, in one run, a Say round trip with a Send of
// a link card and of a 64 KB image (its bytes are in the state while in
// flight) through two bots that answer at once: the capability lookup
// through the pool's wrappers is all that media adds.
func BenchmarkSendMedia(b *testing.B) {
	image := puppet.FileMedia(puppet.FileFromBytes("chart.png", make([]byte, 64<<10)))
	link := puppet.LinkMedia(puppet.URLLink{URL: "https://wechaty.js.org/", Title: "Wechaty"})
	for _, tc := range []struct {
		name string
		send func(ctx context.Context, pool *hawechaty.Pool) error
	}{
		{"say", func(ctx context.Context, pool *hawechaty.Pool) error {
			_, err := pool.Say(ctx, "alice", "hi")
			return err
		}},
		{"link", func(ctx context.Context, pool *hawechaty.Pool) error {
			_, err := pool.Send(ctx, "alice", link)
			return err
		}},
		{"image64k", func(ctx context.Context, pool *hawechaty.Pool) error {
			_, err := pool.Send(ctx, "alice", image)
			return err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pool, err := hawechaty.New(hawechaty.WithDingAfter(time.Hour), hawechaty.WithFailAfter(2*time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for _, name := range []string{"bot-0", "bot-1"} {
				if err := pool.Add(ctx, instantMedia{newInstant(name)}); err != nil {
					b.Fatal(err)
				}
			}
			if err := pool.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer pool.Stop(ctx)
			deadline := time.Now().Add(time.Minute)
			for pool.Health().Available < 2 {
				if time.Now().After(deadline) {
					b.Fatal("the bots did not log in")
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.send(ctx, pool); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
