package wechatyservice_test

import (
	"fmt"

	"github.com/hawechaty/hawechaty/puppet/wechatyservice"
)

// The endpoint of the puppet at position 1 in HA_WECHATY_PUPPET: its own
// variable wins over the shared one.
func ExampleEndpoint() {
	env := map[string]string{
		"WECHATY_PUPPET_SERVICE_ENDPOINT":   "10.0.0.5:8788",
		"WECHATY_PUPPET_SERVICE_ENDPOINT_1": "10.0.0.6:8788",
	}
	for i := range 2 {
		ep, err := wechatyservice.Endpoint(func(k string) string { return env[k] }, i)
		fmt.Println(i, ep, err)
	}
	_, err := wechatyservice.Endpoint(func(string) string { return "" }, 0)
	fmt.Println(err)
	// Output:
	// 0 10.0.0.5:8788 <nil>
	// 1 10.0.0.6:8788 <nil>
	// wechatyservice: no endpoint for puppet #0: set WECHATY_PUPPET_SERVICE_ENDPOINT_0 or WECHATY_PUPPET_SERVICE_ENDPOINT
}

// Reconnection delays: the middle of the jitter range (r = 0.5), then the
// shortest and longest possible first delay.
func ExampleBackoff_Delay() {
	b := wechatyservice.DefaultBackoff
	for attempt := range 4 {
		fmt.Println(b.Delay(attempt, 0.5))
	}
	fmt.Println(b.Delay(0, 0), b.Delay(0, 1), b.Delay(100, 0.5))
	// Output:
	// 1s
	// 1.6s
	// 2.56s
	// 4.096s
	// 800ms 1.2s 30s
}

// The TLS server name a token implies, as Wechaty's clients read it: the
// prefix before the last "_".
func ExampleServerNameOf() {
	for _, token := range []string{"insecure_4c8d0e", "puppet_padlocal_9f0e", "4c8d0e"} {
		fmt.Printf("%q\n", wechatyservice.ServerNameOf(token))
	}
	// Output:
	// "insecure"
	// "puppet_padlocal"
	// ""
}
