package marbletest_test

import (
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/marbletest"
)

func ExampleParse() {
	tl, _ := marbletest.Parse("--a-^-b-c-|", time.Millisecond)
	fmt.Println(tl.String()) // seen from ^
	for _, e := range tl.Events {
		fmt.Println(e.At, e.Value)
	}
	// Output:
	// --b-c-|
	// -2ms a
	// 2ms b
	// 4ms c
	// 6ms
}
