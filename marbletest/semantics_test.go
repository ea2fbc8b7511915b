package marbletest_test

// RxJS TestScheduler behaviour from its marble-testing guide (rxjs.dev,
// "Testing RxJS Code with Marble Diagrams"), restated for this package.

import (
	"math"
	"slices"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/marbletest"
	"github.com/hawechaty/hawechaty/store"
)

// Two subscriptions to one hot source through expectObservable's second
// argument: each sees the values between its '^' and its '!', and the
// expected marble counts frames from the start of the test, not from '^'.
func TestHotSourceThroughTwoSubscriptionMarbles(t *testing.T) {
	const source = "--a--a--a--a--a--a--a--"
	for _, c := range []struct{ sub, want string }{
		{"--^-----------!", "--a--a--a--a--"},
		{"---------^--------!", "-----------a--a--a-"},
	} {
		marbletest.Run(t, func(m *marbletest.M) {
			marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: source, Values: values, Subscription: c.sub, Expected: c.want})
		})
	}
}

// A cold source replays its marble per subscription, and its
// subscriptions are reported frame by frame, as expectSubscriptions.
func TestColdReplaysPerSubscription(t *testing.T) {
	marbletest.Run(t, func(m *marbletest.M) {
		inner := m.Cold("-d|", values)
		marbletest.ExpectEpic(m, switchToCold(inner), marbletest.EpicCase[int]{Input: "a---a", Values: values, Expected: "-d---d"})
		inner.ExpectSubscriptions("^-!", "----^-!")
	})
}

// SetTB(nil) is ignored: failures still reach the TB set before.
func TestSetTBNilKeepsTheTB(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		m.SetTB(nil)
		m.Parse("(a")
	})
	if len(msgs) != 1 {
		t.Fatalf("want the one syntax error reported to the fake TB, got %q", msgs)
	}
}

// A For so long that the run would end past the largest time.Duration is
// reported, not wrapped around into a run that ends at once.
func TestHugeForIsReported(t *testing.T) {
	msgs := failures(t, ms, func(m *marbletest.M) {
		marbletest.ExpectEpic(m, identity, marbletest.EpicCase[int]{Input: "a", Values: values, Expected: "a", For: math.MaxInt64})
		st, err := store.New(func(s int, _ actions.Action) int { return s }, 0)
		if err != nil {
			t.Fatal(err)
		}
		marbletest.ExpectStore(m, st, marbletest.StoreCase{Dispatch: "a", Values: values, Expected: "a", For: math.MaxInt64})
	})
	want := []string{
		"marbletest: EpicCase.For 2562047h47m16.854775807s: the test would end past the largest time.Duration",
		"marbletest: StoreCase.For 2562047h47m16.854775807s: the test would end past the largest time.Duration",
	}
	if !slices.Equal(msgs, want) {
		t.Fatalf("failures:\n%q\nwant:\n%q", msgs, want)
	}
}
