package actions_test

import (
	"encoding/json"
	"fmt"

	"github.com/hawechaty/hawechaty/actions"
)

type loginPayload struct {
	Bot string `json:"bot"`
}

var exampleLogin = actions.Define[loginPayload]("example/LOGIN")

func ExampleDefine() {
	a := exampleLogin.New(loginPayload{Bot: "bot-1"})
	if p, ok := exampleLogin.Match(a); ok {
		fmt.Println("logged in:", p.Bot)
	}
	data, _ := json.Marshal(a)
	fmt.Println(string(data))

	var back actions.Action
	_ = json.Unmarshal(data, &back)
	p, _ := exampleLogin.Match(back)
	fmt.Printf("%T %s\n", p, p.Bot)
	// Output:
	// logged in: bot-1
	// {"type":"example/LOGIN","payload":{"bot":"bot-1"}}
	// actions_test.loginPayload bot-1
}
