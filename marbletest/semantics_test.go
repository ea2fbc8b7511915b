package marbletest_test

// RxJS TestScheduler behaviour from its marble-testing guide (rxjs.dev,
// "Testing RxJS Code with Marble Diagrams"), restated for this package.

import (
	"testing"

	"github.com/hawechaty/hawechaty/marbletest"
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
