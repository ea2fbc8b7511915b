package selectors_test

import (
	"fmt"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
)

func ExampleCreate1() {
	type State struct {
		Online reducers.Table[bool]
		Ticks  int
	}
	online := selectors.Create1(
		func(s State) reducers.Table[bool] { return s.Online },
		func(t reducers.Table[bool]) []string {
			var ids []string
			for id, up := range t.All() {
				if up {
					ids = append(ids, id)
				}
			}
			return ids
		})

	s := State{Online: reducers.Table[bool]{}.Set("bot-1", true).Set("bot-2", false)}
	fmt.Println(online.Select(s))
	s.Ticks++ // not an input: the cached result is returned
	fmt.Println(online.Select(s), online.Recomputations())
	s.Online = s.Online.Set("bot-2", true)
	fmt.Println(online.Select(s), online.Recomputations())
	// Output:
	// [bot-1]
	// [bot-1] 1
	// [bot-1 bot-2] 2
}
