package puppettest_test

import (
	"fmt"

	"github.com/hawechaty/hawechaty/puppet/puppettest"
)

// A puppet without a protocol-level ding and without a world the test can
// drive or observe still runs the core of the suite.
func ExampleChecks() {
	for _, name := range puppettest.Checks(puppettest.Features{}) {
		fmt.Println(name)
	}
	// Output:
	// StartLogsIn
	// SayToContactAndRoom
	// SayToUnknownIsPermanent
	// HeartbeatContactAnswersDong
	// StopLogsOutAndRestartWorks
	// SayWhenStoppedIsNotSent
	// ConcurrentSays
	// DoneContextIsRespected
	// CloseClosesEvents
}
