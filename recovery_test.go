package hawechaty_test

import (
	"math"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/stretchr/testify/assert"
)

// Regression tests of the failure, reset and recovery loop through the
// facade, over the mock world.

// New rejects options that would make the pool misbehave silently.
func TestNewRejectsNaNAndAZeroDingPeriod(t *testing.T) {
	nan := math.NaN()
	for name, opt := range map[string]hawechaty.Option{
		"backoff factor NaN": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: nan, Jitter: 0.2, Max: time.Minute}),
		"backoff jitter NaN": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: 2, Jitter: nan, Max: time.Minute}),
		"backoff factor Inf": hawechaty.WithBackoff(epics.Backoff{Initial: time.Second, Factor: math.Inf(1), Jitter: 0.2, Max: time.Minute}),
		"DingAfter 2ns":      hawechaty.WithDingAfter(2 * time.Nanosecond),
	} {
		_, err := hawechaty.New(opt)
		assert.Error(t, err, name)
	}
}
