// Package puppettest is the conformance suite every puppet.Puppet passes:
// the mock world, and each real adapter against its real server.
//
// Run takes a Harness that builds a fresh Subject per check: the puppet,
// stopped, and handles on its world (the heartbeat contact, a room the bot
// is in, a contact it can reach, and optional ways to post to the bot, see
// what was delivered and make sends hang). Features switches the optional
// checks; everything else every puppet must do.
//
// The suite runs in real time, because a real server cannot run in virtual
// time, and never inside a testing/synctest bubble. It never sleeps to
// wait: it waits for events or conditions, bounded by Harness.Timeout.
//
// # What it checks
//
//   - Start emits EventLogin with Self; Start twice is fine; Events is one
//     channel.
//   - Say to a contact and to the room is delivered; Rooms and Contacts
//     list them (and the heartbeat contact).
//   - Say to an unknown ID is puppet.ErrPermanent.
//   - "ding" to the heartbeat contact comes back as a direct "dong" message
//     from that contact.
//   - puppet.Dinger's Ding comes back as EventDong echoing its data
//     (Features.PuppetDing).
//   - Inbound direct and room messages arrive with IDs, and a burst of them
//     is not lost while nobody reads (Features.Inbound).
//   - Stop emits EventLogout; Stop twice is fine; Start after Stop logs in
//     again on the same Events channel, and sends and receives work.
//   - Say on a stopped puppet is puppet.ErrNotSent.
//   - Concurrent Says all succeed (and all are delivered).
//   - A done context is respected: Say fails at once, not permanent, not
//     delivered; with Features.Hang, a hanging Say ends with its deadline
//     as an unknown outcome.
//   - TrySay (Features.TrySay, a puppet.TrySayer): when it answers, the
//     answer is Say's (delivered, permanent for an unknown ID); it never
//     answers for a type that embeds the puppet; with Features.Hang, it
//     returns at once and delivers nothing unless it answers.
//   - Close closes Events; Close twice is fine; Say and Start after Close
//     fail.
//   - Media (Features.SendMedia, the kinds the puppet sends): each kind
//     (SampleMedia) sent with puppet.SendMedia to the contact and the room
//     is delivered (Subject.DeliveredMedia, with Features.Delivery); to an
//     unknown ID it is permanent; a file with neither bytes nor URL is
//     puppet.ErrBadMedia; on a stopped puppet it is not sent.
//   - Inbound media (Features.InboundMedia, with Subject.PostMedia): each
//     kind arrives as a message of that Kind, and puppet.FetchMedia returns
//     it (SameMedia).
//
// # Usage
//
//	func TestConformance(t *testing.T) {
//		puppettest.Run(t, puppettest.Harness{
//			New: func(t *testing.T) puppettest.Subject {
//				srv := startServer(t) // a fresh world per check
//				return puppettest.Subject{
//					Puppet:           newPuppet(t, srv),
//					HeartbeatContact: srv.Heartbeat,
//					Room:             srv.Room,
//					Contact:          srv.Contact,
//					Post:             srv.Post,      // Features.Inbound
//					Delivered:        srv.Delivered, // Features.Delivery
//				}
//			},
//			Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true},
//			Timeout:  30 * time.Second,
//		})
//	}
package puppettest
