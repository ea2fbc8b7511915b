package reducers_test

import (
	"math"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

// Settings whose arithmetic would overflow are refused: a send budget
// refilling more slowly than once in about 146 years (its refill time
// wrapped round into the past and the clock routed the waiting send
// forever), and a dedupe size whose 8× bound wrapped negative (the
// dedupe forgot every message at once).
func TestValidateRefusesOverflowingSettings(t *testing.T) {
	for name, c := range map[string]reducers.Config{
		"rate per max":  {RateLimit: reducers.RateLimit{Sends: 1, Per: math.MaxInt64, Burst: 1}},
		"dedupe size":   {DedupeSize: math.MaxInt},
		"dedupe size/8": {DedupeSize: math.MaxInt/8 + 1},
	} {
		assert.Error(t, c.Defaults().Validate(), name)
	}
	for name, c := range map[string]reducers.Config{
		"rate per a century": {RateLimit: reducers.RateLimit{Sends: 1, Per: 100 * 365 * 24 * time.Hour, Burst: 1}},
		"dedupe size max/8":  {DedupeSize: math.MaxInt / 8},
		"rate off":           {RateLimit: reducers.RateLimit{Sends: -1, Per: math.MaxInt64}},
	} {
		assert.NoError(t, c.Defaults().Validate(), name)
	}
}
