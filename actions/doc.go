// Package actions defines the Action value that flows through a store, and
// typed creators that build and match actions without reflection.
//
// Every bot event and every pool decision is an Action: a type string, a
// payload and metadata. Creators are defined once per type, at package level,
// and registered so that actions can travel as JSON (to Redux DevTools, to
// golden files) and come back with a typed payload.
//
// # Usage
//
//	type LoginPayload struct {
//		Bot string `json:"bot"`
//	}
//
//	var Login = actions.Define[LoginPayload]("bot/LOGIN")
//
//	a := Login.New(LoginPayload{Bot: "bot-1"})
//	if p, ok := Login.Match(a); ok {
//		fmt.Println(p.Bot) // bot-1
//	}
//
// Define panics when a type string is registered twice: that is a programming
// error found at init time, like registering the same HTTP route twice.
// Everything that handles outside input (Decode, UnmarshalJSON) returns errors.
package actions
