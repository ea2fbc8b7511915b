package devtools_test

import (
	"context"
	"math"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
)

// Huge or non-positive sizes are errors from Connect and NewEndpoint, not
// a panic when the store subscription's buffer is allocated.
func TestHugeAndBadSizesAreErrors(t *testing.T) {
	st, err := store.New(func(s int, _ actions.Action) int { return s }, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	for name, opt := range map[string]devtools.Option{
		"huge queue":   devtools.WithQueue(math.MaxInt),
		"queue over":   devtools.WithQueue(devtools.MaxQueue + 1),
		"zero queue":   devtools.WithQueue(0),
		"zero max age": devtools.WithMaxAge(0),
		"small frame":  devtools.WithMaxFrame(10),
		"no conns":     devtools.WithMaxConnections(0),
		"nil option":   nil,
	} {
		_, err := devtools.NewEndpoint(st, opt)
		assert.Error(t, err, "NewEndpoint: %s", name)
		_, err = devtools.Connect(context.Background(), st, opt)
		assert.Error(t, err, "Connect: %s", name)
	}
}
