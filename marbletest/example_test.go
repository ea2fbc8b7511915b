package marbletest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/rx"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

func ExampleParse() {
	tl, _ := marbletest.Parse("--a-^-b-c-|", time.Millisecond)
	for _, e := range tl.Events {
		fmt.Println(e.At, e.Kind, e.Symbol())
	}
	fmt.Println(tl) // prints back to the same timeline
	// Output:
	// -2ms next a
	// 2ms next b
	// 4ms next c
	// 6ms complete |
	// --a-^-b-c-|
}

func ExampleParse_error() {
	_, err := marbletest.Parse("-a-(bc", time.Millisecond)
	fmt.Println(err)
	// Output:
	// marbletest: bad marble at 3 in "-a-(bc": unclosed group
}

func ExampleTimeline_String() {
	tl := marbletest.MustParse("1000ms d 999ms d 999ms d", time.Millisecond)
	fmt.Println(tl)
	// Output:
	// 1s d 999ms d 999ms d
}

// An epic test to copy: the epic, its actions, and the marbles.
var (
	go_    = actions.Define[actions.Empty]("example/GO")
	halt   = actions.Define[actions.Empty]("example/HALT")
	beat   = actions.Define[actions.Empty]("example/BEAT")
	exampl = marbletest.Values{
		"g": go_.New(actions.Empty{}),
		"h": halt.New(actions.Empty{}),
		"b": beat.New(actions.Empty{}),
	}
)

// beats emits BEAT every second after GO, until HALT; a new GO restarts
// the clock.
func beats(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
	halts := rx.OfType(in, halt.Type())
	return rx.SwitchMap(rx.OfType(in, go_.Type()), func(context.Context, any) rxgo.Observable {
		return rx.TakeUntil(rx.Interval(time.Second, func(int) any { return beat.New(actions.Empty{}) }), halts)
	})
}

func TestExampleBeats(t *testing.T) {
	// Frames of one second: a minute of beats runs in microseconds.
	marbletest.RunFrame(t, time.Second, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, beats, marbletest.EpicCase[int]{
			Input:    "g 2500ms h", // GO at 0, HALT at 3.5 s
			Values:   exampl,
			Expected: "-bbb",
			For:      time.Minute, // and nothing in the minute after
		})
	})
}
