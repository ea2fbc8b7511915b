// Package puppet defines the Puppet interface: one bot account's connection
// to a chat platform, as the pool drives it.
//
// The pool starts and stops puppets, reads their events, and sends through
// them. Send errors are classified (Classify) so that the pool retries a
// message on another bot only when it certainly was not sent. Optional
// capabilities, such as a protocol-level heartbeat (Dinger), are discovered
// with a type assertion; the media capabilities (FileSender, URLSender,
// ContactSender, MediaFetcher: images, files, URL links, contact cards)
// with Capability, which looks through wrappers that Unwrap, and are
// used through SendMedia and FetchMedia. The media types (FileBox,
// URLLink, Media) are plain data, so that a send carrying them sits in the
// pool's state. New also takes the Wechaty puppet names of HAWechaty
// configurations (LookupWechatyName). Guard wraps a puppet so that a panic in one of its
// methods becomes that call's error (a *PanicError); the pool guards every
// puppet it is given, since it calls them on its own goroutines.
//
// Subpackages: mock is an in-memory world of bots, contacts and rooms with
// injectable faults; puppettest is the conformance suite every Puppet passes.
//
// # Usage
//
//	p := world.Bot("bot-1") // any Puppet
//	if err := p.Start(ctx); err != nil { … }
//	for ev := range p.Events() {
//		switch ev.Kind {
//		case puppet.EventMessage:
//			err := p.Say(ctx, ev.Message.Conversation(), "hello")
//			if puppet.Classify(err) == puppet.NotSent { /* try another bot */ }
//		}
//	}
package puppet
