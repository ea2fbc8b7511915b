// Package mock is an in-memory chat platform for tests and demos: bots,
// contacts, rooms, and an official account that answers "dong" to "ding".
// Faults can be injected into any bot at any time: die silently, log out,
// fail sends as not sent, hang (with or without delivering), slow down,
// flap, drop inbound messages, refuse to start. The world records every
// message actually delivered, so tests can count duplicates.
//
// It reads time only through the time package: inside a testing/synctest
// bubble it runs in virtual time, and with WithSeed its randomness is
// reproducible.
//
// # Usage
//
//	w := mock.NewWorld(mock.WithSeed(7))
//	defer w.Close()
//	_ = w.AddContact("alice", "Alice")
//	b1, _ := w.AddBot("bot-1")
//	b2, _ := w.AddBot("bot-2")
//	_ = w.AddRoom("team", "the team", "alice", "bot-1", "bot-2")
//	_ = b1.Start(ctx)            // EventLogin on b1.Events()
//	_, _ = w.Post("alice", "team", "hi") // both bots see one message ID
//	b2.Die()                     // silent until reset
//	_ = b1.Say(ctx, "alice", "hello")
//	fmt.Println(len(w.Delivered()))
//
// Importing the package registers the puppet name "mock" (see
// DefaultWorld) for hawechaty.FromEnv.
package mock
