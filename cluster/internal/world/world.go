// Package world is a chat platform for the cluster's integration suite:
// bot accounts served over the Wechaty puppet-service gRPC protocol, one
// server for them all (the token names the account), that counts per
// account which process drives it.
//
// It behaves as a platform with one login per account does: a Start
// makes the calling process (named by its gRPC user agent) the account's
// driver, and kicks the one before if there was one (recorded as a
// kick); Stop, or the driver's last event stream closing (its process
// died), ends the drive. A send or ding from a process that is not the
// account's driver is a stale act: a process drove the account while
// another did. The suite asserts there are none.
package world

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// IDs of the world.
const (
	Contact   = "alice"
	Heartbeat = "gh_051c89260e5d"
	Room      = "room@chatroom" // alice and every account
)

// Token is the token of an account.
func Token(account string) string { return "insecure_" + account }

// Start is one Start of an account by a process.
type Start struct {
	Node string    `json:"node"`
	At   time.Time `json:"at"`
}

// Act is one call made by a process that did not drive the account.
type Act struct {
	Node   string    `json:"node"`
	Driver string    `json:"driver"`
	Method string    `json:"method"`
	At     time.Time `json:"at"`
}

// Kick is a Start that ended another process's drive.
type Kick struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// Delivery is one message an account sent.
type Delivery struct {
	Account string    `json:"account"`
	Node    string    `json:"node"`
	To      string    `json:"to"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// Account is what the world knows of one account.
type Account struct {
	Driver string  `json:"driver"` // "" when none
	Starts []Start `json:"starts"`
	Ends   []Start `json:"ends"` // when and whose drive ended (Stop or disconnect)
	Kicks  []Kick  `json:"kicks"`
	Stale  []Act   `json:"stale"`
}

// Status is the whole world, for the suite.
type Status struct {
	Accounts  map[string]*Account `json:"accounts"`
	Delivered []Delivery          `json:"delivered"`
}

// World serves the accounts.
type World struct {
	pb.UnimplementedPuppetServer

	mu        sync.Mutex
	accounts  map[string]*account
	byToken   map[string]string
	delivered []Delivery
	seq       int
}

type account struct {
	Account
	streams  map[*stream]bool
	messages map[string]*pbp.MessagePayloadResponse
}

type stream struct {
	node string
	ch   chan *pbp.EventResponse
}

// New returns a world of the named accounts.
func New(accounts ...string) *World {
	w := &World{accounts: map[string]*account{}, byToken: map[string]string{}}
	for _, a := range accounts {
		w.accounts[a] = &account{streams: map[*stream]bool{}, messages: map[string]*pbp.MessagePayloadResponse{}}
		w.byToken[Token(a)] = a
	}
	return w
}

// Serve serves the world on l until ctx ends.
func (w *World) Serve(ctx context.Context, l net.Listener) error {
	srv := grpc.NewServer()
	pb.RegisterPuppetServer(srv, w)
	go func() { <-ctx.Done(); srv.Stop() }()
	return srv.Serve(l)
}

// Status returns a copy of the world's records.
func (w *World) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := Status{Accounts: map[string]*Account{}, Delivered: slices.Clone(w.delivered)}
	for name, a := range w.accounts {
		c := a.Account
		c.Starts, c.Ends, c.Kicks, c.Stale = slices.Clone(c.Starts), slices.Clone(c.Ends), slices.Clone(c.Kicks), slices.Clone(c.Stale)
		out.Accounts[name] = &c
	}
	return out
}

// caller names the account (by token) and the process (by user agent).
func (w *World) caller(ctx context.Context) (string, *account, string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) == 0 || !strings.HasPrefix(auth[0], "Wechaty ") {
		return "", nil, "", status.Error(codes.Unauthenticated, "No Authorization found.")
	}
	name, ok := w.byToken[strings.TrimPrefix(auth[0], "Wechaty ")]
	if !ok {
		return "", nil, "", status.Error(codes.Unauthenticated, "Invalid Wechaty TOKEN")
	}
	node := "?"
	if ua := md.Get("user-agent"); len(ua) > 0 {
		node, _, _ = strings.Cut(ua[0], " ")
	}
	return name, w.accounts[name], node, nil
}

// emitLocked sends an event to every open stream of a.
func emitLocked(a *account, t pbp.EventType, payload any) {
	data, _ := json.Marshal(payload)
	for s := range a.streams {
		select {
		case s.ch <- &pbp.EventResponse{Type: t, Payload: string(data)}:
		default:
		}
	}
}

// staleLocked records a call by a process that is not the driver.
func staleLocked(a *account, node, method string) bool {
	if a.Driver == node {
		return false
	}
	a.Stale = append(a.Stale, Act{Node: node, Driver: a.Driver, Method: method, At: time.Now()})
	return true
}

func (w *World) Event(_ *pbp.EventRequest, srv pb.Puppet_EventServer) error {
	name, a, node, err := w.caller(srv.Context())
	if err != nil {
		return err
	}
	s := &stream{node: node, ch: make(chan *pbp.EventResponse, 1000)}
	w.mu.Lock()
	a.streams[s] = true
	emitLocked(a, pbp.EventType_EVENT_TYPE_HEARTBEAT, map[string]string{"data": "connected"})
	if a.Driver == node {
		s.ch <- &pbp.EventResponse{Type: pbp.EventType_EVENT_TYPE_LOGIN, Payload: fmt.Sprintf(`{"contactId":%q}`, name)}
	}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(a.streams, s)
		if a.Driver != node {
			return
		}
		for o := range a.streams {
			if o.node == node {
				return
			}
		}
		// The driver's process is gone from the account.
		a.Ends = append(a.Ends, Start{Node: node, At: time.Now()})
		a.Driver = ""
	}()
	for {
		select {
		case ev := <-s.ch:
			if err := srv.Send(ev); err != nil {
				return err
			}
		case <-srv.Context().Done():
			return nil
		}
	}
}

func (w *World) Start(ctx context.Context, _ *pbp.StartRequest) (*pbp.StartResponse, error) {
	name, a, node, err := w.caller(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if a.Driver == node {
		return &pbp.StartResponse{}, nil
	}
	now := time.Now()
	if a.Driver != "" {
		a.Kicks = append(a.Kicks, Kick{From: a.Driver, To: node, At: now})
		a.Ends = append(a.Ends, Start{Node: a.Driver, At: now})
		for s := range a.streams {
			if s.node == a.Driver {
				select {
				case s.ch <- &pbp.EventResponse{Type: pbp.EventType_EVENT_TYPE_LOGOUT, Payload: `{"data":"logged in elsewhere"}`}:
				default:
				}
			}
		}
	}
	a.Driver = node
	a.Starts = append(a.Starts, Start{Node: node, At: now})
	for s := range a.streams {
		if s.node == node {
			s.ch <- &pbp.EventResponse{Type: pbp.EventType_EVENT_TYPE_LOGIN, Payload: fmt.Sprintf(`{"contactId":%q}`, name)}
		}
	}
	return &pbp.StartResponse{}, nil
}

func (w *World) Stop(ctx context.Context, _ *pbp.StopRequest) (*pbp.StopResponse, error) {
	_, a, node, err := w.caller(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if a.Driver == node {
		a.Driver = ""
		a.Ends = append(a.Ends, Start{Node: node, At: time.Now()})
	}
	return &pbp.StopResponse{}, nil
}

func (w *World) Ding(ctx context.Context, req *pbp.DingRequest) (*pbp.DingResponse, error) {
	_, a, node, err := w.caller(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if staleLocked(a, node, "Ding") {
		return nil, status.Error(codes.FailedPrecondition, "not logged in")
	}
	emitLocked(a, pbp.EventType_EVENT_TYPE_DONG, map[string]string{"data": req.GetData()})
	return &pbp.DingResponse{}, nil
}

// postLocked records a message in a and announces it.
func (w *World) postLocked(a *account, from, to, text string) string {
	w.seq++
	id := fmt.Sprintf("msg-%d", w.seq)
	a.messages[id] = &pbp.MessagePayloadResponse{Id: id, TalkerId: from, ListenerId: to, Text: text,
		Type: pbp.MessageType_MESSAGE_TYPE_TEXT, ReceiveTime: timestamppb.Now()}
	emitLocked(a, pbp.EventType_EVENT_TYPE_MESSAGE, map[string]string{"messageId": id})
	return id
}

func (w *World) MessageSendText(ctx context.Context, req *pbp.MessageSendTextRequest) (*pbp.MessageSendTextResponse, error) {
	name, a, node, err := w.caller(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if staleLocked(a, node, "MessageSendText") {
		return nil, status.Error(codes.FailedPrecondition, "not logged in")
	}
	to := req.GetConversationId()
	if to != Contact && to != Heartbeat {
		return nil, status.Errorf(codes.NotFound, "no contact %s", to)
	}
	w.delivered = append(w.delivered, Delivery{Account: name, Node: node, To: to, Text: req.GetText(), At: time.Now()})
	id := w.postLocked(a, name, to, req.GetText())
	if to == Heartbeat && req.GetText() == "ding" {
		w.postLocked(a, Heartbeat, name, "dong")
	}
	return &pbp.MessageSendTextResponse{Id: id}, nil
}

func (w *World) MessagePayload(ctx context.Context, req *pbp.MessagePayloadRequest) (*pbp.MessagePayloadResponse, error) {
	_, a, _, err := w.caller(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := a.messages[req.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no message %s", req.GetId())
	}
	return m, nil
}

func (w *World) ContactList(ctx context.Context, _ *pbp.ContactListRequest) (*pbp.ContactListResponse, error) {
	if _, _, _, err := w.caller(ctx); err != nil {
		return nil, err
	}
	return &pbp.ContactListResponse{Ids: []string{Contact, Heartbeat}}, nil
}

func (w *World) ContactPayload(ctx context.Context, req *pbp.ContactPayloadRequest) (*pbp.ContactPayloadResponse, error) {
	if _, _, _, err := w.caller(ctx); err != nil {
		return nil, err
	}
	switch req.GetId() {
	case Contact:
		return &pbp.ContactPayloadResponse{Id: Contact, Name: "Alice"}, nil
	case Heartbeat:
		return &pbp.ContactPayloadResponse{Id: Heartbeat, Name: "ChatieIO"}, nil
	}
	return nil, status.Errorf(codes.NotFound, "no contact %s", req.GetId())
}

func (w *World) RoomList(ctx context.Context, _ *pbp.RoomListRequest) (*pbp.RoomListResponse, error) {
	if _, _, _, err := w.caller(ctx); err != nil {
		return nil, err
	}
	return &pbp.RoomListResponse{Ids: []string{Room}}, nil
}

func (w *World) RoomPayload(ctx context.Context, req *pbp.RoomPayloadRequest) (*pbp.RoomPayloadResponse, error) {
	if _, _, _, err := w.caller(ctx); err != nil {
		return nil, err
	}
	if req.GetId() != Room {
		return nil, status.Errorf(codes.NotFound, "no room %s", req.GetId())
	}
	return &pbp.RoomPayloadResponse{Id: Room, Topic: "everyone"}, nil
}

func (w *World) RoomMemberList(ctx context.Context, req *pbp.RoomMemberListRequest) (*pbp.RoomMemberListResponse, error) {
	if _, _, _, err := w.caller(ctx); err != nil {
		return nil, err
	}
	if req.GetId() != Room {
		return nil, status.Errorf(codes.NotFound, "no room %s", req.GetId())
	}
	w.mu.Lock()
	members := []string{Contact}
	for name := range w.accounts {
		members = append(members, name)
	}
	w.mu.Unlock()
	slices.Sort(members)
	return &pbp.RoomMemberListResponse{MemberIds: members}, nil
}

// Post makes alice write text to the room: every account receives the
// message, under one ID, which it returns.
func (w *World) Post(text string) string {
	return w.post(text, false)
}

// PostCopies is Post with each account receiving the message under an ID
// of its own, as accounts on different providers do; it returns the
// first.
func (w *World) PostCopies(text string) string {
	return w.post(text, true)
}

func (w *World) post(text string, copies bool) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	first := fmt.Sprintf("room-msg-%d", w.seq)
	for name, a := range w.accounts {
		id := first
		if copies {
			id = first + "-" + name
		}
		a.messages[id] = &pbp.MessagePayloadResponse{Id: id, TalkerId: Contact, RoomId: Room, Text: text,
			Type: pbp.MessageType_MESSAGE_TYPE_TEXT, ReceiveTime: timestamppb.Now()}
		emitLocked(a, pbp.EventType_EVENT_TYPE_MESSAGE, map[string]string{"messageId": id})
	}
	return first
}
