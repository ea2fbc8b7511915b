package reducers_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Reducers and selectors start no goroutine; their tests of concurrent
// readers do, and must end them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
