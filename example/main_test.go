package main

import (
	"bytes"
	"regexp"
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
		} {
			assert.Regexp(t, regexp.MustCompile(want), got)
		}
		assert.NotRegexp(t, `send error`, got)
	})
}

func TestFlagsAreChecked(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(&out, 1, time.Minute, ""), "-bots 1: want 2 to 50")
	assert.ErrorContains(t, run(&out, 3, time.Second, ""), "-duration 1s: want 10s to 10m")
	assert.ErrorContains(t, run(&out, 3, 10*time.Second, "http://nope"), "want ws://")
}
