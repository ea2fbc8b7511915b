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

// scanEvent renders an event as "kind status payload" for the scan tests.
func scanEvent(ev puppet.Event) string {
	if ev.Kind != puppet.EventScan {
		return ev.Kind.String() + " " + ev.Self
	}
	return ev.Kind.String() + " " + ev.Scan.String() + " " + ev.Data
}

// A bot added WithQRLogin waits for its scan: a new code every refresh,
// sends refused as not sent, until ScanQR logs it in.
func TestQRLoginWaitsForTheScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		require.NoError(t, w.AddContact("alice", "Alice"))
		b, err := w.AddBot("b1", mock.WithQRLogin("weixin://qr/b1", 30*time.Second))
		require.NoError(t, err)
		require.ErrorIs(t, b.ScanQR(), mock.ErrNoScan, "not started")

		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, "scan waiting weixin://qr/b1#1", scanEvent(next(t, b)))
		assert.True(t, quiet(b))
		assert.False(t, b.LoggedIn())
		_, err = sayWithin(t, b, time.Second, "alice", "hi")
		assert.Equal(t, puppet.NotSent, puppet.Classify(err))

		time.Sleep(30 * time.Second)
		assert.Equal(t, "scan waiting weixin://qr/b1#2", scanEvent(next(t, b)), "the code expired: a new one")
		time.Sleep(10 * time.Second)
		require.NoError(t, b.ScanQR())
		assert.Equal(t, "scan scanned ", scanEvent(next(t, b)))
		assert.Equal(t, "scan confirmed ", scanEvent(next(t, b)))
		assert.Equal(t, "login b1", scanEvent(next(t, b)))
		assert.True(t, b.LoggedIn())
		require.ErrorIs(t, b.ScanQR(), mock.ErrNoScan, "logged in")
		time.Sleep(time.Hour)
		assert.True(t, quiet(b), "no more codes once logged in")

		// A reset shows a new code; a Stop takes it away.
		require.NoError(t, b.Stop(t.Context()))
		assert.Equal(t, "logout ", scanEvent(next(t, b)))
		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, "scan waiting weixin://qr/b1#3", scanEvent(next(t, b)))
		require.NoError(t, b.Stop(t.Context()))
		time.Sleep(time.Hour)
		assert.True(t, quiet(b), "a stopped bot shows no code")
		require.ErrorIs(t, b.ScanQR(), mock.ErrNoScan, "stopped")

		require.NoError(t, b.Close())
		require.ErrorIs(t, b.ScanQR(), mock.ErrClosed)
	})
}

// WithLoginDelay is when someone scans the code: the scan, its
// confirmation and the login come then. Without a refresh the code
// stays.
func TestQRLoginScannedAfterTheLoginDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		b, err := w.AddBot("b1", mock.WithQRLogin("qr", 0), mock.WithLoginDelay(5*time.Second))
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, b.Start(t.Context()))
		assert.Equal(t, "scan waiting qr#1", scanEvent(next(t, b)))
		assert.Equal(t, "scan scanned ", scanEvent(next(t, b)))
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.Equal(t, "scan confirmed ", scanEvent(next(t, b)))
		assert.Equal(t, "login b1", scanEvent(next(t, b)))

		// A dead bot is scanned by nobody.
		b.LogOut()
		assert.Equal(t, "logout ", scanEvent(next(t, b))[:7])
		b.Die()
		require.ErrorIs(t, b.ScanQR(), mock.ErrNoScan, "dead")
	})
}

// One option, two bots: each counts its own codes.
func TestQRLoginOptionSharedByBots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := mock.NewWorld()
		defer w.Close()
		opt := mock.WithQRLogin("qr", 0)
		b1, err := w.AddBot("b1", opt)
		require.NoError(t, err)
		b2, err := w.AddBot("b2", opt)
		require.NoError(t, err)
		require.NoError(t, b1.Start(t.Context()))
		require.NoError(t, b2.Start(t.Context()))
		assert.Equal(t, "scan waiting qr#1", scanEvent(next(t, b1)))
		assert.Equal(t, "scan waiting qr#1", scanEvent(next(t, b2)))
	})
}
