package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemo runs the whole demo in virtual time: the same program, the same
// story, in milliseconds.
func TestDemo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		start := time.Now()
		require.NoError(t, run(&out, 3, 24*time.Second, ""))
		assert.Equal(t, 24*time.Second, time.Since(start).Round(time.Second), "ends by itself")
		got := out.String()
		for _, want := range []string{
			`bot-3 dies silently`,
			`✗  bot-3 failed: `,
			`↻  reset bot-3, attempt 1 done`,
			`✓  bot-3 logged in again after a reset`,
			`messages delivered twice\s+0\n`,
			`no bot available\s+0\n`,
			`detection time\s+[0-9.]+m?s\n`,
			`▣  bot-1 asks for a QR scan \(a mock: its phone scans it in 3s\):\n`,
			`3s  ▣  bot-1: QR code scanned\n`,
			`3s  ▣  bot-1: QR login confirmed\n`,
			`3s  ✓  bot-1 logged in by its QR code: in rotation\n`,
		} {
			assert.Regexp(t, regexp.MustCompile(want), got)
		}
		assert.NotRegexp(t, `send error`, got)
		// The QR code printed is bot-1's, and it scans.
		_, after, ok := strings.Cut(got, "scans it in 3s):\n")
		require.True(t, ok)
		code, _, ok := strings.Cut(after, "    3s  ▣")
		require.True(t, ok)
		assert.Equal(t, "hawechaty-mock://login/bot-1#1", scanText(t, code))
	})
}

// -scan 0: no QR login, and the demo is as it was.
func TestDemoWithoutScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer func(d time.Duration) { scanAfter = d }(scanAfter)
		scanAfter = 0
		var out bytes.Buffer
		require.NoError(t, run(&out, 2, 10*time.Second, ""))
		assert.NotContains(t, out.String(), "QR")
		assert.Contains(t, out.String(), "bot-2 dies silently")
	})
}

func TestFlagsAreChecked(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(&out, 1, time.Minute, ""), "-bots 1: want 2 to 50")
	assert.ErrorContains(t, run(&out, 3, time.Second, ""), "-duration 1s: want 10s to 10m")
	assert.ErrorContains(t, run(&out, 3, 10*time.Second, "http://nope"), "want ws://")
}
