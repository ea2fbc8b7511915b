// Package wechatyservice is a puppet.Puppet for Wechaty puppet services:
// the gRPC protocol of wechaty-puppet-service and the hosted providers,
// spoken through the generated stubs of github.com/wechaty/go-grpc. With
// an endpoint and a token it puts a real bot account behind the pool.
//
// Importing the package registers it as "wechaty-puppet-service" for
// HA_WECHATY_PUPPET, which then also serves the HAWechaty names of
// accounts reached through a puppet service ("wechaty-puppet-padlocal",
// "wechaty-puppet-hostie", …; see puppet.LookupWechatyName). The endpoint comes from the environment, never from an
// internet discovery service:
//
//	WECHATY_PUPPET_SERVICE_ENDPOINT_<i>  the endpoint of the puppet at 0-based
//	                                     position i in HA_WECHATY_PUPPET (the
//	                                     position that pairs it with its token
//	                                     in HA_WECHATY_PUPPET_TOKEN)
//	WECHATY_PUPPET_SERVICE_ENDPOINT      the endpoint of every other one
//
// For example, two accounts on two services:
//
//	HA_WECHATY_PUPPET=wechaty-puppet-service:wechaty-puppet-service
//	HA_WECHATY_PUPPET_TOKEN=token-a:token-b
//	WECHATY_PUPPET_SERVICE_ENDPOINT_0=10.0.0.5:8788
//	WECHATY_PUPPET_SERVICE_ENDPOINT_1=10.0.0.6:8788
//
// # TLS
//
// As Wechaty's own clients do, the puppet speaks TLS by default and checks
// the service's certificate against the Wechaty community's root CA
// (WechatyRootCA) and a server name, which is the token's prefix
// (ServerNameOf: "insecure_…" names "insecure", "puppet_padlocal_…"
// names "puppet_padlocal"). A wechaty-puppet-service server with TLS on
// and no certificate of its own uses one for "insecure" signed by that CA,
// so an "insecure_" token connects with no further setting. That default
// certificate's key ships with the server, so it keeps out passive
// eavesdroppers only: for privacy, give the service a certificate of your
// own CA and the puppet that CA. The variables, each also per puppet with
// the "_<i>" suffix, and the options that mirror them:
//
//	WECHATY_PUPPET_SERVICE_TLS_CA_CERT      the CA's PEM ("\n" may stand for a
//	                                        newline)            WithTLSCACert
//	WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME  the certificate's name
//	                                        WithTLSServerName
//	WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true
//	                                        plaintext, for a server started with
//	                                        WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER
//	                                        WithNoTLS
//
// A token prefix never turns TLS off by itself (nor does it in Wechaty's
// clients): it names the certificate to expect. A token without a prefix
// and no server name is ErrNoServerName at New. The name matches the
// certificate's DNS or IP names, or, when it has none (as the
// certificates of Wechaty's CA), its common name, case-insensitively. A
// failed handshake is ErrTLS at Start, naming the setting to check.
//
// Every call carries the gRPC metadata
// "authorization: Wechaty <token>". The token never appears in errors,
// logs, events, results or String: every string the service sends (logout
// reasons, scan payloads, heartbeat and dong data, error texts, IDs, room
// topics, contact names) has the token replaced by "[REDACTED]", as is
// and URL- or JSON-escaped, before it goes anywhere. A message's text is
// the users' content and is passed on unchanged. An ID that contains the
// token therefore reaches the pool redacted, and cannot be sent to.
//
// # Behaviour
//
// Start opens the event stream, waits for the service's first event and
// calls the Start RPC; a refused token is ErrUnauthenticated, naming the
// endpoint. Stream events become puppet events: login, logout, scan,
// message (its text fetched with MessagePayload; messages the bot sent
// itself are not reported), dong, heartbeat and error. When the stream
// breaks, the puppet emits EventError and, if it was logged in,
// EventLogout, then reconnects with Backoff; the service's login event
// brings EventLogin back. Stop ends the stream, calls the Stop RPC and
// emits EventLogout; Start after Stop is a reset.
//
// A scan event carries Wechaty's status (0 to 5: unknown, cancel, waiting,
// scanned, confirmed, timeout) as Event.Scan, and its QR code, if any, as
// Event.Data; a status it cannot read is puppet.ScanUnknown.
//
// Friends: a friendship event whose payload (FriendshipPayload) is
// confirmed becomes EventFriendAdded with the contact's ID; friend
// requests and verifications are not friendships yet and are dropped.
// Wechaty has no event for a friend lost (a contact that deletes the bot
// tells nothing; dirty events only invalidate caches), so the puppet never
// emits EventFriendRemoved. Contacts lists only friends and official
// accounts when the service tells friendship (Wechaty's contact payload
// has a friend field; see Puppet.Contacts), and Say refuses the other
// contacts it listed with ErrNotFriend (puppet.ErrNotFriend: unreachable,
// not sent) without sending. No error of the service itself is read as
// "not a friend": WeChat takes a message to a non-friend and refuses it
// afterwards, so such an error may come after the message left, and stays
// outcome unknown.
//
// Media: SendFile sends Wechaty FileBox JSON with MessageSendFile: a URL
// box for a remote file; bytes base64 up to UploadThreshold (64 KiB), and
// above it, as Wechaty's own clients send big files, uploaded first in
// UploadChunk (256 KiB) chunks through the client-streaming Upload call
// and sent as a UUID box that names the ID the service answered. No
// request then carries more than a chunk, so gRPC's default 4 MiB message
// limit does not bound a file; MaxFileSize (256 MiB) does
// (ErrFileTooLarge). A send whose upload fails is not sent (no message
// left). A service without Upload gets files up to 3 MiB − 64 KiB base64.
// SendURL calls MessageSendUrl, SendContact MessageSendContact. A message's Kind comes
// from the type the service gives it (numbered as wechaty-puppet numbers
// message types); MessageFile reads its FileBox (base64, URL, or a UUID
// box read with Download, which the server uses above 20 KB), MessageURL
// and MessageContact the rest.
//
// Say errors are classified for the pool (puppet.Classify): not sent when
// the request never left (stopped, stream down, not logged in, connection
// refused) or the service refused it before acting; outcome unknown when it
// left and no clear answer came (a deadline, a broken connection);
// permanent for an ID that is not a contact or room of the bot, and for
// NotFound, InvalidArgument and PermissionDenied.
//
// # Usage
//
//	p, err := wechatyservice.New("127.0.0.1:8788", puppet.NewSecret("insecure_"+token))
//	if err != nil { … }
//	defer p.Close()
//	if err := p.Start(ctx); err != nil { … } // wechatyservice.ErrUnauthenticated, unreachable…
//	for ev := range p.Events() {
//		switch ev.Kind {
//		case puppet.EventLogin:
//			_ = p.Ding(ctx, "probe") // an EventDong follows
//		case puppet.EventMessage:
//			err := p.Say(ctx, ev.Message.Conversation(), "hello")
//			if puppet.Classify(err) == puppet.NotSent { /* try another bot */ }
//		}
//	}
//
// The servicetest subpackage runs the real wechaty-puppet-service server
// (from integration/puppetservice) for tests.
package wechatyservice
