package reducers_test

import (
	"fmt"

	"github.com/hawechaty/hawechaty/reducers"
)

func ExampleTable() {
	v1 := reducers.Table[int]{}.Set("bot-1", 0).Set("bot-2", 0)
	v2 := v1.Update("bot-2", func(sent int) int { return sent + 1 })

	a, _ := v1.Get("bot-2")
	b, _ := v2.Get("bot-2")
	fmt.Println(a, b, v2.Keys())
	fmt.Println(v1 == v2, v2 == v2.Delete("nobody"))
	// Output:
	// 0 1 [bot-1 bot-2]
	// false true
}
