package wechatyservice_test

import (
	"context"

	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// friendly is the fake service's friendship: which contacts it says are
// friends (nil: it does not tell, as services that leave the field unset)
// and the friendships it announced.
type friendly struct {
	friends     map[string]bool
	friendships map[string]*pbp.FriendshipPayloadResponse
}

// friendPayload sets the friend field of a contact payload; f.mu is not
// held.
func (f *fakeService) friendPayload(r *pbp.ContactPayloadResponse) *pbp.ContactPayloadResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Friend = f.friends[r.GetId()]
	if r.GetId() == fakeHeartbeat {
		r.Type = pbp.ContactType_CONTACT_TYPE_OFFICIAL
	}
	return r
}

// setFriends makes the service tell friendship: the IDs given are friends,
// every other contact is not.
func (f *fakeService) setFriends(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.friends = map[string]bool{}
	for _, id := range ids {
		f.friends[id] = true
	}
}

// announceFriendship records a friendship of type typ with contact and
// emits its friendship event; a confirmed one makes contact a friend.
func (f *fakeService) announceFriendship(id, contact string, typ pbp.FriendshipType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.friendships == nil {
		f.friendships = map[string]*pbp.FriendshipPayloadResponse{}
	}
	f.friendships[id] = &pbp.FriendshipPayloadResponse{Id: id, ContactId: contact, Type: typ}
	if typ == pbp.FriendshipType_FRIENDSHIP_TYPE_CONFIRM && f.friends != nil {
		f.friends[contact] = true
	}
	f.emitLocked(pbp.EventType_EVENT_TYPE_FRIENDSHIP, map[string]string{"friendshipId": id})
}

func (f *fakeService) FriendshipPayload(ctx context.Context, req *pbp.FriendshipPayloadRequest) (*pbp.FriendshipPayloadResponse, error) {
	if err := f.auth(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.friendships[req.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no friendship %s", req.GetId())
	}
	return r, nil
}
