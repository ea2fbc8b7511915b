// Package mock is an in-memory chat platform for tests and demos: bots,
// contacts, rooms, and an official account that answers "dong" to "ding".
// Each bot is a puppet.Puppet, a puppet.Dinger and a puppet.TrySayer (its
// TrySay sends at once, unless a fault would make Say wait: a dead, killed
// or hung bot, a latency); faults can be injected
// into any bot at any time, and the world records every message actually
// delivered, so tests can count duplicates.
//
// # The world
//
// A World holds contacts (AddContact), rooms with members (AddRoom, Join,
// Leave) and bots (AddBot). A bot can say something to any contact or bot
// and to the rooms it is in; anything else is puppet.ErrPermanent. Post
// makes a contact write to a room or to a bot: every bot that sees it gets
// an EventMessage with the same message ID. A bot's message to a room is
// seen by the other bots in it, and the official account
// (DefaultHeartbeatContact unless WithHeartbeatContact) answers a "ding"
// with a direct "dong" to the bot that sent it, after WithDongDelay. Ding,
// the protocol-level heartbeat, answers with EventDong after WithDingDelay.
//
// A bot sees messages only while it is started, logged in and alive; what
// it misses is gone, as for an account that is offline.
//
// Bots send media too (puppet.FileSender, URLSender, ContactSender; see
// media.go), with Say's faults and outcomes: the world records them in
// Delivered with Delivery.Media (DeliveredMedia lists only those) and
// hands them to the other bots as messages of their Kind, whose media a
// bot fetches (puppet.MediaFetcher). PostMedia makes a contact send media.
//
// # Friendships and providers
//
// A bot is friends with everyone unless added WithFriends: then it can
// say something directly only to the IDs listed (the official account
// included), Say to anyone else fails with ErrNotFriend and
// puppet.ErrNotFriend (unreachable: not sent), and Contacts lists only its
// friends. Befriend and Unfriend change a friendship mid-run; Befriend
// tells the bot with EventFriendAdded, Unfriend tells nothing, as real
// platforms. A bot added WithProvider sees messages under its provider's
// own IDs, as bots on different puppet providers do.
//
// # Events
//
// A bot's Events channel is one channel for its whole life, across Stop
// and Start, closed by Close. Events go through an unbounded queue per bot,
// drained by one goroutine: the world never blocks on a slow reader and no
// event is ever dropped while the bot lives (memory grows instead). Close
// discards what nobody read.
//
// A bot added WithHeartbeat emits EventHeartbeat periodically while it is
// started, logged in or not (the Wechaty puppet service forwards its
// connection's heartbeats whatever the account's state): a heartbeat
// proves the connection, not the login.
//
// A bot added WithQRLogin logs in only by a QR scan: each Start emits
// EventScan (ScanWaiting) with a QR payload, a new one every refresh,
// until ScanQR (or WithLoginDelay) scans it: ScanScanned, ScanConfirmed,
// then EventLogin.
//
// # Faults
//
//	fault            what it does                                       lasts until
//	Die              silent: no events, sends hang then outcome         a reset (Stop, Start)
//	                 unknown, never delivered; dings unanswered
//	Kill             Die that survives resets                           Revive or ClearFaults
//	LogOut           EventLogout now; sends fail as not sent            a reset
//	FailSends(true)  sends fail as not sent                             FailSends(false) or ClearFaults
//	Hang(delivered)  sends block until ctx ends, then outcome unknown;  a reset or ClearFaults
//	                 with delivered the message arrives first
//	SetLatency(d)    sends take d; a ctx that ends first is outcome     SetLatency(0) or ClearFaults
//	                 unknown, never delivered
//	Flap(period)     logs out and in, phases of period/2 to 3·period/2  ClearFaults
//	DropInbound(on)  messages to the bot are lost (dong included)       DropInbound(false) or ClearFaults
//	FailStart(n)     the next n Starts fail (n < 0: every Start)        n failures, FailStart(0) or ClearFaults
//	SlowStart(d)     Start takes d, deaf to its ctx, then starts as     SlowStart(0) or ClearFaults
//	                 usual: it can return nil after its deadline
//
// Refusals and hangs a test injected (FailSends, Hang, FailStart) wrap
// ErrInjected; a dead bot's silence looks like a real one. Every send error
// wraps one of puppet.ErrNotSent, puppet.ErrOutcomeUnknown,
// puppet.ErrPermanent or puppet.ErrNotFriend.
// Closing a bot or the world ends every send that hangs.
//
// # Time and randomness
//
// The world reads time only through the time package: inside a
// testing/synctest bubble it runs in virtual time. Randomness (flapping)
// comes from math/rand/v2 seeded by WithSeed, one stream per bot derived
// from the seed and the bot's ID; message IDs are numbered per sender and
// conversation; nothing depends on map order. The same seed and the same
// calls give the same timeline.
//
// # The registered puppet "mock"
//
// Importing the package registers the puppet name "mock" for
// puppet.New and hawechaty.FromEnv: each puppet built that way is a new bot
// in DefaultWorld, named after puppet.Config.Name, and a member of its room
// "room-all". The token is ignored. Reach the world with DefaultWorld to
// post messages or inject faults.
//
// # Usage
//
//	w := mock.NewWorld(mock.WithSeed(7))
//	defer w.Close()
//	_ = w.AddContact("alice", "Alice")
//	b1, _ := w.AddBot("bot-1")
//	b2, _ := w.AddBot("bot-2")
//	_ = w.AddRoom("team", "the team", "alice", "bot-1", "bot-2")
//	_ = b1.Start(ctx) // EventLogin on b1.Events()
//	_ = b2.Start(ctx)
//	id, _ := w.Post("alice", "team", "hi") // both bots see message id
//	b2.Die()                                 // silent until a reset
//	b1.Hang(true)                            // delivered, then no answer
//	err := b1.Say(ctx, "alice", "hello")     // outcome unknown when ctx ends
//	for _, d := range w.Delivered() { … }   // count what really arrived
package mock
