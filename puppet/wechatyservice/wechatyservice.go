package wechatyservice

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/samber/lo"
	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Puppet is one bot account behind a Wechaty puppet service. It implements
// puppet.Puppet and puppet.Dinger and is safe for concurrent use.
type Puppet struct {
	name     string
	endpoint string
	token    puppet.Secret
	o        options
	out      *outbox

	serverName string                           // TLS server name; "" when TLS is off
	creds      credentials.TransportCredentials // TLS, or plaintext
	lastTLS    atomic.Pointer[handshakeError]   // the last failed handshake

	life sync.Mutex // serializes Start, Stop and Close

	mu     sync.Mutex // guards the fields below and the session's state
	closed bool
	sess   *session
}

var (
	_ puppet.Puppet = (*Puppet)(nil)
	_ puppet.Dinger = (*Puppet)(nil)
)

// New returns a stopped puppet for the service at endpoint ("host:port" or
// any gRPC target), authenticating with token. It connects on Start. The
// caller must Close it.
//
// The connection uses TLS unless WithNoTLS(true) says otherwise, as
// Wechaty's clients do: the service's certificate must chain to the
// Wechaty root CA (or WithTLSCACert's) and carry the server name
// (WithTLSServerName, else the token's prefix: ServerNameOf). A token
// without a prefix and no server name is ErrNoServerName.
func New(endpoint string, token puppet.Secret, opts ...Option) (*Puppet, error) {
	endpoint = strings.TrimSpace(endpoint)
	if endpoint == "" {
		return nil, fmt.Errorf("%w: empty endpoint", ErrNoEndpoint)
	}
	if err := checkEndpoint("endpoint", endpoint); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if o.name == "" {
		o.name = PuppetName + "@" + endpoint
	}
	p := &Puppet{name: o.name, endpoint: endpoint, token: token, o: o, creds: insecure.NewCredentials()}
	if !o.tls.off {
		creds, err := o.tls.credentials(token.Reveal(), &p.lastTLS)
		if err != nil {
			return nil, fmt.Errorf("%w (puppet %q at %s)", err, o.name, endpoint)
		}
		p.creds, p.serverName = creds, creds.name
	}
	p.out = newOutbox() // last: it starts a goroutine that only Close ends
	return p, nil
}

// Name returns the puppet's name; it never contains the token.
func (p *Puppet) Name() string { return p.name }

// ServerName returns the name the service's TLS certificate must carry, or
// "" when the puppet speaks plaintext (WithNoTLS).
func (p *Puppet) ServerName() string { return p.serverName }

// Endpoint returns the address of the service.
func (p *Puppet) Endpoint() string { return p.endpoint }

// String describes the puppet by name and endpoint, without the token.
func (p *Puppet) String() string { return fmt.Sprintf("%s(%s)", p.name, p.endpoint) }

// GoString is String, so that %#v shows no token either.
func (p *Puppet) GoString() string { return "wechatyservice.Puppet(" + p.String() + ")" }

// Events returns the event stream, the same channel for the puppet's whole
// life; Close closes it.
func (p *Puppet) Events() <-chan puppet.Event { return p.out.ch }

// clean removes the token from a string the service sent (see redact).
func (p *Puppet) clean(s string) string { return redact(s, p.token.Reveal()) }

// emit stamps and queues an event.
func (p *Puppet) emit(ev puppet.Event) {
	ev.Time = time.Now()
	p.out.push(ev)
}

// session is one Start…Stop of the puppet: a connection, its event stream
// (reconnected as needed) and what the stream told us.
type session struct {
	p      *Puppet
	conn   *grpc.ClientConn
	client pb.PuppetClient
	ctx    context.Context // ends with the session
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	// noUpload: the service answered Upload with Unimplemented
	noUpload atomic.Bool

	// guarded by p.mu
	connected bool
	loggedIn  bool
	self      string
	targets   map[string]bool // contact and room IDs; nil until loaded
	// strangers are contacts the service lists but says are not friends
	// (see Contacts); Say refuses them before sending. Nil until Contacts
	// ran, or when the service does not tell friendship.
	strangers map[string]bool
}

// Start connects to the service, opens its event stream and starts the
// account (the Start RPC). It returns once the stream is up; EventLogin
// follows when the account is logged in, EventScan while it waits for a QR
// code scan. A started puppet returns nil. A refused token is
// ErrUnauthenticated, and an unreachable service an error naming the
// endpoint; neither hangs longer than ctx.
func (p *Puppet) Start(ctx context.Context) error {
	p.life.Lock()
	defer p.life.Unlock()
	p.mu.Lock()
	closed, running := p.closed, p.sess != nil
	p.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("wechatyservice: start %q: %w", p.name, ErrClosed)
	case running:
		return nil
	}

	p.lastTLS.Store(nil)
	conn, err := grpc.NewClient(p.endpoint, p.dialOptions()...)
	if err != nil {
		return fmt.Errorf("wechatyservice: start %q at %s: %w", p.name, p.endpoint, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &session{p: p, conn: conn, client: pb.NewPuppetClient(conn), ctx: sctx, cancel: cancel, done: make(chan struct{})}
	stream, first, err := s.connect(ctx, true)
	if err != nil {
		cancel()
		_ = conn.Close()
		return p.startError(ctx, err)
	}
	p.mu.Lock()
	s.connected = true
	p.sess = s
	p.mu.Unlock()
	p.o.logger.Info("wechatyservice: connected", "puppet", p.name, "endpoint", p.endpoint)
	go s.run(stream, first)
	return nil
}

func (p *Puppet) dialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(p.creds),
		grpc.WithPerRPCCredentials(tokenAuth{token: p.token}),
		grpc.WithStatsHandler(sentTracker{}),
	}
	return append(opts, p.o.dial...)
}

// startError explains why Start failed, naming the endpoint and never the
// token.
func (p *Puppet) startError(ctx context.Context, err error) error {
	rpc := newRPCError("start", p.endpoint, err, p.token.Reveal())
	if h := p.lastTLS.Load(); h != nil && rpc.Code == codes.Unavailable {
		return fmt.Errorf("wechatyservice: start %q: %w", p.name, p.tlsError(h))
	}
	switch {
	case rpc.Code == codes.Unauthenticated:
		return fmt.Errorf("wechatyservice: start %q at %s: %w (%s)", p.name, p.endpoint, ErrUnauthenticated, rpc.Message)
	case ctx.Err() != nil:
		return fmt.Errorf("wechatyservice: start %q at %s: no answer before the deadline: %w", p.name, p.endpoint, errors.Join(ctx.Err(), rpc))
	}
	if p.serverName == "" && rpc.Code == codes.Unavailable && strings.Contains(rpc.Message, "server preface") {
		// A TLS server drops a plaintext client before gRPC's preface.
		return fmt.Errorf("wechatyservice: start %q at %s: %w (the service may want TLS: unset %s)", p.name, p.endpoint, rpc, EnvNoTLS)
	}
	return fmt.Errorf("wechatyservice: start %q at %s: %w", p.name, p.endpoint, rpc)
}

// tokenAuth sends the token as "authorization: Wechaty <token>" on every
// call. It holds a puppet.Secret, so printing it shows no token.
type tokenAuth struct{ token puppet.Secret }

func (t tokenAuth) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Wechaty " + t.token.Reveal()}, nil
}

func (tokenAuth) RequireTransportSecurity() bool { return false }

// connect opens the event stream, waits for its first event (the service
// sends a heartbeat at once) and calls the Start RPC, all bounded by ctx.
// The stream itself lives until the session ends or the returned cancel is
// called. retryBusy retries while the service still holds the stream of a
// previous session (AlreadyExists: it allows one stream at a time).
func (s *session) connect(ctx context.Context, retryBusy bool) (*stream, *pbp.EventResponse, error) {
	for attempt := 0; ; attempt++ {
		st, first, err := s.connectOnce(ctx)
		if err == nil || !retryBusy || codeOf(err) != codes.AlreadyExists {
			return st, first, err
		}
		t := time.NewTimer(Backoff{Base: 50 * time.Millisecond, Factor: 2, Max: time.Second}.Delay(attempt, 0.5))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil, err
		}
	}
}

// stream is an event stream and the cancel function that ends it.
type stream struct {
	pb.Puppet_EventClient
	cancel context.CancelFunc
}

func (s *session) connectOnce(ctx context.Context) (*stream, *pbp.EventResponse, error) {
	sctx, cancel := context.WithCancel(s.ctx)
	stop := context.AfterFunc(ctx, cancel) // ctx bounds the wait, not the stream
	ev, err := s.client.Event(sctx, &pbp.EventRequest{})
	var first *pbp.EventResponse
	if err == nil {
		first, err = ev.Recv()
	}
	if err == nil {
		_, err = s.client.Start(ctx, &pbp.StartRequest{})
	}
	if !stop() && err == nil {
		err = ctx.Err() // ctx ended just now and took the stream with it
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return &stream{Puppet_EventClient: ev, cancel: cancel}, first, nil
}

func codeOf(err error) codes.Code {
	var rpc *RPCError
	if errors.As(err, &rpc) {
		return rpc.Code
	}
	return newRPCError("", "", err, "").Code
}

// run reads the event stream until the session ends, and reconnects with
// backoff when the stream breaks.
func (s *session) run(st *stream, first *pbp.EventResponse) {
	defer close(s.done)
	p := s.p
	s.handle(first)
	for {
		err := s.read(st)
		st.cancel()
		if s.ctx.Err() != nil {
			return
		}
		s.disconnected(err)
		var ok bool
		if st, first, ok = s.reconnect(); !ok {
			return
		}
		p.mu.Lock()
		s.connected = true
		p.mu.Unlock()
		p.o.logger.Info("wechatyservice: reconnected", "puppet", p.name, "endpoint", p.endpoint)
		s.handle(first)
	}
}

// read handles events until the stream fails.
func (s *session) read(st *stream) error {
	for {
		ev, err := st.Recv()
		if err != nil {
			return err
		}
		s.handle(ev)
	}
}

// disconnected records a broken stream: the bot is logged out until the
// stream is back.
func (s *session) disconnected(err error) {
	p := s.p
	rpc := newRPCError("event stream", p.endpoint, err, p.token.Reveal())
	p.o.logger.Warn("wechatyservice: event stream broke; reconnecting", "puppet", p.name, "endpoint", p.endpoint, "err", rpc.Error())
	p.mu.Lock()
	s.connected = false
	s.targets = nil
	wasIn := s.loggedIn
	s.loggedIn = false
	p.mu.Unlock()
	p.emit(puppet.Event{Kind: puppet.EventError, Err: fmt.Errorf("wechatyservice: %q lost the event stream: %w", p.name, rpc)})
	if wasIn {
		p.emit(puppet.Event{Kind: puppet.EventLogout, Self: s.self, Data: "disconnected"})
	}
}

// reconnect retries connect with backoff until it works or the session
// ends.
func (s *session) reconnect() (*stream, *pbp.EventResponse, bool) {
	p := s.p
	for attempt := 0; ; attempt++ {
		t := time.NewTimer(p.o.backoff.Delay(attempt, rand.Float64()))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return nil, nil, false
		}
		ctx, cancel := context.WithTimeout(s.ctx, p.o.callTimeout)
		st, first, err := s.connect(ctx, false)
		cancel()
		if err == nil {
			return st, first, true
		}
		if s.ctx.Err() != nil {
			return nil, nil, false
		}
		p.o.logger.Debug("wechatyservice: reconnect failed", "puppet", p.name, "endpoint", p.endpoint, "attempt", attempt,
			"err", newRPCError("reconnect", p.endpoint, err, p.token.Reveal()).Error())
	}
}

// handle turns one stream event into puppet events. Every string from the
// service is cleaned of the token (Puppet.clean) before it goes into an
// event, except a message's text.
func (s *session) handle(ev *pbp.EventResponse) {
	p := s.p
	w, err := decodeEvent(ev)
	if err != nil {
		// The decoder's error can quote the payload: only its cleaned text
		// goes on.
		msg := p.clean(strings.TrimPrefix(err.Error(), "wechatyservice: "))
		p.emit(puppet.Event{Kind: puppet.EventError, Err: fmt.Errorf("wechatyservice: %q: %w: %s", p.name, ErrBadEvent, msg)})
		return
	}
	w.Self, w.Data = p.clean(w.Self), p.clean(w.Data)
	switch w.Kind {
	case 0:
		return
	case puppet.EventLogin:
		p.mu.Lock()
		dup := s.loggedIn && s.self == w.Self
		s.loggedIn, s.self, s.targets, s.strangers = true, w.Self, nil, nil
		p.mu.Unlock()
		if !dup {
			p.emit(puppet.Event{Kind: puppet.EventLogin, Self: w.Self})
		}
	case puppet.EventLogout:
		p.mu.Lock()
		wasIn := s.loggedIn
		s.loggedIn, s.targets = false, nil
		p.mu.Unlock()
		if wasIn {
			p.emit(puppet.Event{Kind: puppet.EventLogout, Self: w.Self, Data: w.Data})
		}
	case puppet.EventMessage:
		s.message(w.MessageID) // the raw ID, to ask for it; message cleans what it emits
	case puppet.EventFriendAdded:
		s.friendship(w.FriendshipID)
	case puppet.EventError:
		p.emit(puppet.Event{Kind: puppet.EventError, Err: fmt.Errorf("wechatyservice: %q: the service reports: %s", p.name, w.Data)})
	default:
		p.emit(puppet.Event{Kind: w.Kind, Data: w.Data, Scan: w.Scan})
	}
}

// friendship fetches a friendship's payload and, when it is confirmed (the
// two accounts are friends now), emits EventFriendAdded with the contact's
// ID. Requests received or verifications asked are not friendships yet.
func (s *session) friendship(id string) {
	p := s.p
	ctx, cancel := context.WithTimeout(s.ctx, p.o.callTimeout)
	defer cancel()
	f, err := s.client.FriendshipPayload(ctx, &pbp.FriendshipPayloadRequest{Id: id})
	if err != nil {
		if s.ctx.Err() == nil {
			p.emit(puppet.Event{Kind: puppet.EventError, Err: newRPCError(fmt.Sprintf("friendship %q", id), p.endpoint, err, p.token.Reveal())})
		}
		return
	}
	raw := f.GetContactId()
	if f.GetType() != pbp.FriendshipType_FRIENDSHIP_TYPE_CONFIRM || raw == "" {
		return
	}
	p.mu.Lock()
	delete(s.strangers, raw)
	if s.targets != nil {
		s.targets[raw] = true
	}
	p.mu.Unlock()
	p.emit(puppet.Event{Kind: puppet.EventFriendAdded, Data: p.clean(raw)})
}

// message fetches a message's payload and emits it, unless the bot sent
// it itself. Its IDs are cleaned of the token; its text is not.
func (s *session) message(id string) {
	p := s.p
	ctx, cancel := context.WithTimeout(s.ctx, p.o.callTimeout)
	defer cancel()
	m, err := s.client.MessagePayload(ctx, &pbp.MessagePayloadRequest{Id: id})
	if err != nil {
		if s.ctx.Err() == nil {
			p.emit(puppet.Event{Kind: puppet.EventError, Err: newRPCError(fmt.Sprintf("message %q", id), p.endpoint, err, p.token.Reveal())})
		}
		return
	}
	msg := messageFrom(m)
	if msg.ID == "" {
		msg.ID = id
	}
	msg.ID, msg.From, msg.To, msg.Room = p.clean(msg.ID), p.clean(msg.From), p.clean(msg.To), p.clean(msg.Room)
	p.mu.Lock()
	own := s.self != "" && msg.From == s.self
	p.mu.Unlock()
	if !own {
		p.emit(puppet.Event{Kind: puppet.EventMessage, Message: msg})
	}
}

// Stop ends the event stream, asks the service to stop the account (the
// Stop RPC, best effort: an unreachable service does not fail Stop) and
// disconnects. It emits EventLogout if the bot was logged in. A stopped
// puppet returns nil.
func (p *Puppet) Stop(ctx context.Context) error {
	p.life.Lock()
	defer p.life.Unlock()
	p.stop(ctx)
	return nil
}

func (p *Puppet) stop(ctx context.Context) {
	p.mu.Lock()
	s := p.sess
	p.sess = nil
	p.mu.Unlock()
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	_, err := s.client.Stop(ctx, &pbp.StopRequest{})
	cancel()
	if err != nil {
		p.o.logger.Debug("wechatyservice: Stop RPC failed", "puppet", p.name, "endpoint", p.endpoint,
			"err", newRPCError("stop", p.endpoint, err, p.token.Reveal()).Error())
	}
	_ = s.conn.Close()
	p.mu.Lock()
	wasIn, self := s.loggedIn, s.self
	s.loggedIn, s.connected = false, false
	p.mu.Unlock()
	if wasIn {
		p.emit(puppet.Event{Kind: puppet.EventLogout, Self: self, Data: "stopped"})
	}
}

// stopTimeout bounds the Stop RPC: Stop must not wait long on a service
// that is gone.
const stopTimeout = 5 * time.Second

// Close stops the puppet and closes Events. Calls after the first return
// nil.
func (p *Puppet) Close() error {
	p.life.Lock()
	defer p.life.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	p.stop(ctx)
	cancel()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.out.close()
	return nil
}

// callContext bounds ctx by the call timeout unless it has a deadline.
func (p *Puppet) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.o.callTimeout)
}

// connected returns the session if its stream is up; otherwise an error
// that wraps puppet.ErrNotSent.
func (p *Puppet) connected(op string, needLogin bool) (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, fmt.Errorf("wechatyservice: %s via %q: %w: %w", op, p.name, ErrClosed, puppet.ErrNotSent)
	case p.sess == nil || !p.sess.connected:
		return nil, fmt.Errorf("wechatyservice: %s via %q at %s: %w: %w", op, p.name, p.endpoint, ErrNotConnected, puppet.ErrNotSent)
	case needLogin && !p.sess.loggedIn:
		return nil, fmt.Errorf("wechatyservice: %s via %q at %s: %w: %w", op, p.name, p.endpoint, ErrNotLoggedIn, puppet.ErrNotSent)
	}
	return p.sess, nil
}

// call runs one RPC and classifies its failure (see outcome).
func (p *Puppet) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	var sent atomic.Bool
	err := f(withSentFlag(ctx, &sent))
	if err == nil {
		return nil
	}
	rpc := newRPCError(op, p.endpoint, err, p.token.Reveal())
	return fmt.Errorf("%w: %w", rpc, outcome(rpc.Code, sent.Load()))
}

// Say sends text to a room or contact ID (MessageSendText). Its error wraps
// puppet.ErrNotSent when the request never left or the service refused it
// before acting (stopped, stream down, not logged in, connection refused),
// puppet.ErrOutcomeUnknown when it left and no clear answer came back (a
// deadline, a broken connection), and puppet.ErrPermanent when it can never
// work (an ID that is neither a contact nor a room of the bot:
// ErrUnknownTarget; NotFound, InvalidArgument, PermissionDenied).
func (p *Puppet) Say(ctx context.Context, to, text string) error {
	op := fmt.Sprintf("say to %q", to)
	s, err := p.connected(op, true)
	if err != nil {
		return err
	}
	if err := s.checkTarget(ctx, op, to); err != nil {
		return err
	}
	return p.call(ctx, op, func(ctx context.Context) error {
		_, err := s.client.MessageSendText(ctx, &pbp.MessageSendTextRequest{ConversationId: to, Text: text})
		return err
	})
}

// checkTarget makes sure to is a contact or room of the bot, reloading the
// lists once when it is not known yet. Services differ in what they do
// with an unknown ID (wechaty-puppet-mock fails with Unknown, after the
// request left); asking first turns it into a clear permanent error. A
// failure to ask means the message was not sent.
func (s *session) checkTarget(ctx context.Context, op, to string) error {
	p := s.p
	if to == "" {
		return fmt.Errorf("wechatyservice: %s via %q: empty ID: %w: %w", op, p.name, ErrUnknownTarget, puppet.ErrPermanent)
	}
	p.mu.Lock()
	known, stranger := s.targets[to] || to == s.self, s.strangers[to]
	p.mu.Unlock()
	if stranger {
		return fmt.Errorf("wechatyservice: %s via %q at %s: %w: %w", op, p.name, p.endpoint, ErrNotFriend, puppet.ErrNotFriend)
	}
	if known {
		return nil
	}
	targets := map[string]bool{}
	err := p.call(ctx, op+": list contacts", func(ctx context.Context) error {
		r, err := s.client.ContactList(ctx, &pbp.ContactListRequest{})
		for _, id := range r.GetIds() {
			targets[id] = true
		}
		return err
	})
	if err == nil {
		err = p.call(ctx, op+": list rooms", func(ctx context.Context) error {
			r, err := s.client.RoomList(ctx, &pbp.RoomListRequest{})
			for _, id := range r.GetIds() {
				targets[id] = true
			}
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("%w: %w", err, puppet.ErrNotSent)
	}
	p.mu.Lock()
	if p.sess == s {
		s.targets = targets
	}
	p.mu.Unlock()
	if !targets[to] {
		return fmt.Errorf("wechatyservice: %s via %q at %s: %w: %w", op, p.name, p.endpoint, ErrUnknownTarget, puppet.ErrPermanent)
	}
	return nil
}

// Ding asks the service for a puppet-level heartbeat: EventDong with data
// follows (wechaty-puppet-mock answers after about a second). Errors are
// classified like Say's.
func (p *Puppet) Ding(ctx context.Context, data string) error {
	s, err := p.connected("ding", false)
	if err != nil {
		return err
	}
	return p.call(ctx, "ding", func(ctx context.Context) error {
		_, err := s.client.Ding(ctx, &pbp.DingRequest{Data: data})
		return err
	})
}

// Rooms lists the bot's rooms (RoomList) with their topics (RoomPayload)
// and members (RoomMemberList).
func (p *Puppet) Rooms(ctx context.Context) ([]puppet.Room, error) {
	s, err := p.connected("rooms", false)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := p.call(ctx, "rooms", func(ctx context.Context) error {
		r, err := s.client.RoomList(ctx, &pbp.RoomListRequest{})
		ids = r.GetIds()
		return err
	}); err != nil {
		return nil, err
	}
	rooms := make([]puppet.Room, 0, len(ids))
	for _, id := range ids {
		room := puppet.Room{ID: p.clean(id)}
		op := fmt.Sprintf("room %q", id)
		if err := p.call(ctx, op, func(ctx context.Context) error {
			r, err := s.client.RoomPayload(ctx, &pbp.RoomPayloadRequest{Id: id})
			room.Topic = p.clean(r.GetTopic())
			return err
		}); err != nil {
			return nil, err
		}
		if err := p.call(ctx, op+" members", func(ctx context.Context) error {
			r, err := s.client.RoomMemberList(ctx, &pbp.RoomMemberListRequest{Id: id})
			for _, m := range r.GetMemberIds() {
				room.Members = append(room.Members, p.clean(m))
			}
			return err
		}); err != nil {
			return nil, err
		}
		rooms = append(rooms, room)
	}
	return rooms, nil
}

// Contacts lists the bot's contacts (ContactList) with their names
// (ContactPayload). Services list strangers too (members of the bot's
// rooms); when the service tells friendship (some contact comes with
// friend set), only friends, official accounts and the bot itself are listed, and Say
// refuses the others with ErrNotFriend. A service that marks no contact as
// a friend does not tell, and every contact is listed.
func (p *Puppet) Contacts(ctx context.Context) ([]puppet.Contact, error) {
	s, err := p.connected("contacts", false)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := p.call(ctx, "contacts", func(ctx context.Context) error {
		r, err := s.client.ContactList(ctx, &pbp.ContactListRequest{})
		ids = r.GetIds()
		return err
	}); err != nil {
		return nil, err
	}
	p.mu.Lock()
	self := s.self
	p.mu.Unlock()
	contacts := make([]puppet.Contact, 0, len(ids))
	strangers := map[string]bool{}
	tells := false
	for _, id := range ids {
		c := puppet.Contact{ID: p.clean(id)}
		if err := p.call(ctx, fmt.Sprintf("contact %q", id), func(ctx context.Context) error {
			r, err := s.client.ContactPayload(ctx, &pbp.ContactPayloadRequest{Id: id})
			c.Name = p.clean(r.GetName())
			tells = tells || r.GetFriend()
			if !r.GetFriend() && r.GetType() != pbp.ContactType_CONTACT_TYPE_OFFICIAL && id != self {
				strangers[id] = true
			}
			return err
		}); err != nil {
			return nil, err
		}
		contacts = append(contacts, c)
	}
	if !tells {
		strangers = nil
	}
	p.mu.Lock()
	if p.sess == s {
		s.strangers = strangers
	}
	p.mu.Unlock()
	return lo.Filter(contacts, func(c puppet.Contact, i int) bool { return !strangers[ids[i]] }), nil
}
