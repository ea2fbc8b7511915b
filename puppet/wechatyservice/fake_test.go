package wechatyservice_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	pb "github.com/wechaty/go-grpc/wechaty"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeService is an in-process puppet service on go-grpc's generated
// server interface: a bot "bot", contacts "alice" and the heartbeat
// account (which answers "dong" to "ding"), a room "room@chatroom". Like
// the real server it allows one event stream at a time, greets a stream
// with a heartbeat (and a login when logged in), and puts the token a
// client sent into its Unauthenticated message.
type fakeService struct {
	pb.UnimplementedPuppetServer
	token string

	mu        sync.Mutex
	loggedIn  bool
	stream    chan *pbp.EventResponse // the open event stream, nil if none
	endStream chan struct{}           // closed to end the open stream
	messages  map[string]*pbp.MessagePayloadResponse
	delivered []delivery
	seq       int
	hangSay   bool          // MessageSendText blocks until the client gives up
	sayBegun  chan struct{} // if set, MessageSendText signals its start here
	sayCode   codes.Code
	sayMsg    string // the message of the sayCode error ("injected" if empty)
	starts    int
	// extra contacts (name by ID) and rooms, beside the fixed ones
	extraContacts map[string]string
	extraRooms    map[string]fakeRoomInfo
	// media sent by the bot, and media messages posted (fake_media_test.go)
	sentMedia []fakeMedia
	media     map[string]puppet.Media
	// imagesApart: MessageFile refuses images, which MessageImage serves
	imagesApart bool
	// uploads (fake_upload_test.go)
	fakeUploads
	// friendship as the service tells it (fake_friends_test.go)
	friendly
}

type fakeRoomInfo struct {
	Topic   string
	Members []string
}

type delivery struct{ To, Text string }

// msgTypeText is text as services number it: wechaty-puppet's 7, which
// go-grpc's enum calls something else.
const msgTypeText pbp.MessageType = 7

const (
	fakeSelf      = "bot"
	fakeContact   = "alice"
	fakeHeartbeat = "gh_051c89260e5d"
	fakeRoom      = "room@chatroom"
)

var fakeContacts = map[string]string{fakeSelf: "Bot", fakeContact: "Alice", fakeHeartbeat: "ChatieIO"}

func newFakeService(token string) *fakeService {
	return &fakeService{token: token, messages: map[string]*pbp.MessagePayloadResponse{}}
}

// auth checks the token like wechaty-puppet-service does.
func (f *fakeService) auth(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	got := md.Get("authorization")
	if len(got) == 0 {
		return status.Error(codes.Unauthenticated, "No Authorization found.")
	}
	if got[0] != "Wechaty "+f.token {
		return status.Errorf(codes.Unauthenticated, "Invalid Wechaty TOKEN %q", got[0][len("Wechaty "):])
	}
	return nil
}

// emitLocked sends an event to the open stream, if any; f.mu is held.
func (f *fakeService) emitLocked(t pbp.EventType, payload any) {
	if f.stream == nil {
		return
	}
	data, _ := json.Marshal(payload)
	select {
	case f.stream <- &pbp.EventResponse{Type: t, Payload: string(data)}:
	default: // a test that floods the stream loses events, as a real one would
	}
}

// emitRaw sends an event with a payload as is to the open stream.
func (f *fakeService) emitRaw(t pbp.EventType, payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stream != nil {
		f.stream <- &pbp.EventResponse{Type: t, Payload: payload}
	}
}

// postAs records a message with every field chosen by the test, and
// announces it.
func (f *fakeService) postAs(m *pbp.MessagePayloadResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages[m.GetId()] = m
	f.emitLocked(pbp.EventType_EVENT_TYPE_MESSAGE, map[string]string{"messageId": m.GetId()})
}

func (f *fakeService) Event(_ *pbp.EventRequest, srv pb.Puppet_EventServer) error {
	if err := f.auth(srv.Context()); err != nil {
		return err
	}
	f.mu.Lock()
	if f.stream != nil {
		f.mu.Unlock()
		return status.Error(codes.AlreadyExists, "GrpcServerImpl.event() can not call twice.")
	}
	ch, end := make(chan *pbp.EventResponse, 1000), make(chan struct{})
	f.stream, f.endStream = ch, end
	f.emitLocked(pbp.EventType_EVENT_TYPE_HEARTBEAT, map[string]string{"data": "connected"})
	if f.loggedIn {
		f.emitLocked(pbp.EventType_EVENT_TYPE_LOGIN, map[string]string{"contactId": fakeSelf})
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if f.stream == ch {
			f.stream, f.endStream = nil, nil
		}
		f.mu.Unlock()
	}()
	for {
		select {
		case ev := <-ch:
			if err := srv.Send(ev); err != nil {
				return err
			}
		case <-end:
			return nil
		case <-srv.Context().Done():
			return nil
		}
	}
}

func (f *fakeService) Start(ctx context.Context, _ *pbp.StartRequest) (*pbp.StartResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	if !f.loggedIn {
		f.loggedIn = true
		f.emitLocked(pbp.EventType_EVENT_TYPE_SCAN, map[string]any{"qrcode": "https://qr.example/1", "status": 2})
		f.emitLocked(pbp.EventType_EVENT_TYPE_LOGIN, map[string]string{"contactId": fakeSelf})
	}
	return &pbp.StartResponse{}, nil
}

func (f *fakeService) Stop(ctx context.Context, _ *pbp.StopRequest) (*pbp.StopResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.endStream != nil {
		close(f.endStream)
		f.stream, f.endStream = nil, nil
	}
	f.loggedIn = false
	return &pbp.StopResponse{}, nil
}

func (f *fakeService) Ding(ctx context.Context, req *pbp.DingRequest) (*pbp.DingResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emitLocked(pbp.EventType_EVENT_TYPE_DONG, map[string]string{"data": req.GetData()})
	return &pbp.DingResponse{}, nil
}

// postLocked records a message and announces it on the stream.
func (f *fakeService) postLocked(from, to, room, text string) string {
	f.seq++
	id := fmt.Sprintf("msg-%d", f.seq)
	f.messages[id] = &pbp.MessagePayloadResponse{
		Id: id, TalkerId: from, ListenerId: to, RoomId: room, Text: text,
		Type: msgTypeText, ReceiveTime: timestamppb.Now(),
	}
	f.emitLocked(pbp.EventType_EVENT_TYPE_MESSAGE, map[string]string{"messageId": id})
	return id
}

// post makes alice write to the bot (room "") or to a room.
func (f *fakeService) post(room, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	to := fakeSelf
	if room != "" {
		to = ""
	}
	f.postLocked(fakeContact, to, room, text)
}

func (f *fakeService) MessageSendText(ctx context.Context, req *pbp.MessageSendTextRequest) (*pbp.MessageSendTextResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	hang, code, begun := f.hangSay, f.sayCode, f.sayBegun
	f.mu.Unlock()
	if begun != nil {
		begun <- struct{}{}
	}
	if hang {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if code != codes.OK {
		msg := "injected"
		if f.sayMsg != "" {
			msg = f.sayMsg
		}
		return nil, status.Error(code, msg)
	}
	to := req.GetConversationId()
	f.mu.Lock()
	_, extra := f.extraContacts[to]
	f.mu.Unlock()
	if _, ok := fakeContacts[to]; !ok && !extra && to != fakeRoom {
		return nil, status.Errorf(codes.Unknown, "MockContact.load(): %s not exist.", to)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, delivery{to, req.GetText()})
	var id string
	if to == fakeRoom {
		id = f.postLocked(fakeSelf, "", fakeRoom, req.GetText())
	} else {
		id = f.postLocked(fakeSelf, to, "", req.GetText())
	}
	if to == fakeHeartbeat && req.GetText() == "ding" {
		f.postLocked(fakeHeartbeat, fakeSelf, "", "dong")
	}
	return &pbp.MessageSendTextResponse{Id: id}, nil
}

func (f *fakeService) wasDelivered(to, text string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.delivered, delivery{to, text})
}

func (f *fakeService) MessagePayload(ctx context.Context, req *pbp.MessagePayloadRequest) (*pbp.MessagePayloadResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[req.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no message %s", req.GetId())
	}
	return m, nil
}

func (f *fakeService) ContactList(ctx context.Context, _ *pbp.ContactListRequest) (*pbp.ContactListResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(fakeContacts))
	for id := range fakeContacts {
		ids = append(ids, id)
	}
	f.mu.Lock()
	for id := range f.extraContacts {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	slices.Sort(ids)
	return &pbp.ContactListResponse{Ids: ids}, nil
}

func (f *fakeService) ContactPayload(ctx context.Context, req *pbp.ContactPayloadRequest) (*pbp.ContactPayloadResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	name, ok := fakeContacts[req.GetId()]
	if !ok {
		f.mu.Lock()
		name, ok = f.extraContacts[req.GetId()]
		f.mu.Unlock()
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no contact %s", req.GetId())
	}
	return f.friendPayload(&pbp.ContactPayloadResponse{Id: req.GetId(), Name: name}), nil
}

func (f *fakeService) RoomList(ctx context.Context, _ *pbp.RoomListRequest) (*pbp.RoomListResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	ids := []string{fakeRoom}
	f.mu.Lock()
	for id := range f.extraRooms {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	slices.Sort(ids[1:])
	return &pbp.RoomListResponse{Ids: ids}, nil
}

func (f *fakeService) RoomPayload(ctx context.Context, req *pbp.RoomPayloadRequest) (*pbp.RoomPayloadResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	if r, ok := f.extraRoom(req.GetId()); ok {
		return &pbp.RoomPayloadResponse{Id: req.GetId(), Topic: r.Topic}, nil
	}
	if req.GetId() != fakeRoom {
		return nil, status.Errorf(codes.NotFound, "no room %s", req.GetId())
	}
	return &pbp.RoomPayloadResponse{Id: fakeRoom, Topic: "HA room"}, nil
}

func (f *fakeService) RoomMemberList(ctx context.Context, req *pbp.RoomMemberListRequest) (*pbp.RoomMemberListResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	if r, ok := f.extraRoom(req.GetId()); ok {
		return &pbp.RoomMemberListResponse{MemberIds: r.Members}, nil
	}
	if req.GetId() != fakeRoom {
		return nil, status.Errorf(codes.NotFound, "no room %s", req.GetId())
	}
	return &pbp.RoomMemberListResponse{MemberIds: []string{fakeSelf, fakeContact}}, nil
}

func (f *fakeService) extraRoom(id string) (fakeRoomInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.extraRooms[id]
	return r, ok
}

// fakeNet serves a fakeService over an in-memory listener that the test
// can take down (kill) and bring back (restart), as if the server process
// died and came back on the same address.
type fakeNet struct {
	svc *fakeService
	tls *tls.Config // the server's TLS; nil: plaintext

	mu  sync.Mutex
	lis *bufconn.Listener
	srv *grpc.Server
	wg  sync.WaitGroup
}

func newFakeNet(t testing.TB, token string) *fakeNet {
	t.Helper()
	return newFakeNetTLS(t, token, nil)
}

// newFakeNetTLS is newFakeNet with a server that speaks TLS with cfg.
func newFakeNetTLS(t testing.TB, token string, cfg *tls.Config) *fakeNet {
	t.Helper()
	n := &fakeNet{svc: newFakeService(token), tls: cfg}
	n.restart()
	t.Cleanup(n.kill)
	return n
}

func (n *fakeNet) restart() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lis = bufconn.Listen(1 << 20)
	var opts []grpc.ServerOption
	if n.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(n.tls)))
	}
	n.srv = grpc.NewServer(opts...)
	pb.RegisterPuppetServer(n.srv, n.svc)
	srv, lis := n.srv, n.lis
	n.wg.Go(func() { _ = srv.Serve(lis) })
}

// kill stops the server at once: streams break, new dials fail. A
// restarted service comes back logged out, like a new process.
func (n *fakeNet) kill() {
	n.mu.Lock()
	srv := n.srv
	n.mu.Unlock()
	srv.Stop()
	n.wg.Wait()
	n.svc.mu.Lock()
	n.svc.loggedIn = false
	n.svc.mu.Unlock()
}

func (n *fakeNet) dial(ctx context.Context, _ string) (net.Conn, error) {
	n.mu.Lock()
	lis := n.lis
	n.mu.Unlock()
	return lis.DialContext(ctx)
}
