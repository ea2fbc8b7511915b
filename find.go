package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hawechaty/hawechaty/puppet"
)

// Room is a group chat found through the pool. Say sends through any
// available bot in the room, not through one fixed bot.
type Room struct {
	ID      string
	Topic   string
	Members []string // contact IDs, merged across bots
	pool    *Pool
}

// Say sends text to the room through the pool.
func (r Room) Say(ctx context.Context, text string) (Receipt, error) {
	return r.pool.Say(ctx, r.ID, text)
}

// Contact is a person or account found through the pool.
type Contact struct {
	ID   string
	Name string
	pool *Pool
}

// Say sends text to the contact through the pool.
func (c Contact) Say(ctx context.Context, text string) (Receipt, error) {
	return c.pool.Say(ctx, c.ID, text)
}

// RoomFinder finds rooms across every logged-in bot of the pool.
type RoomFinder struct{ pool *Pool }

// ContactFinder finds contacts across every logged-in bot of the pool.
type ContactFinder struct{ pool *Pool }

// FindAll returns the rooms whose topic contains query (all rooms for an
// empty query), each once, in the order first seen. Bots that cannot list
// rooms are skipped; if every bot fails, their errors are returned.
func (f RoomFinder) FindAll(ctx context.Context, query string) ([]Room, error) {
	var out []Room
	index := map[string]int{}
	err := f.pool.eachLoggedIn(ctx, func(ctx context.Context, bot string, p puppet.Puppet) error {
		rooms, err := p.Rooms(ctx)
		if err != nil {
			return err
		}
		// The full list is at hand: routing learns rooms joined since login.
		f.pool.roomsListed(bot, rooms)
		for _, r := range rooms {
			if !strings.Contains(r.Topic, query) {
				continue
			}
			if i, seen := index[r.ID]; seen {
				out[i].Members = mergeIDs(out[i].Members, r.Members)
				continue
			}
			index[r.ID] = len(out)
			out = append(out, Room{ID: r.ID, Topic: r.Topic, Members: mergeIDs(nil, r.Members), pool: f.pool})
		}
		return nil
	})
	return out, err
}

// Find returns the first room whose topic contains query, or ErrNotFound.
func (f RoomFinder) Find(ctx context.Context, query string) (Room, error) {
	rooms, err := f.FindAll(ctx, query)
	if len(rooms) > 0 {
		return rooms[0], nil
	}
	if err != nil {
		return Room{}, err
	}
	return Room{}, fmt.Errorf("%w: room %q", ErrNotFound, query)
}

// FindAll returns the contacts whose name or ID contains query, each once.
func (f ContactFinder) FindAll(ctx context.Context, query string) ([]Contact, error) {
	var out []Contact
	seen := map[string]bool{}
	err := f.pool.eachLoggedIn(ctx, func(ctx context.Context, _ string, p puppet.Puppet) error {
		cs, err := p.Contacts(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if seen[c.ID] || !(strings.Contains(c.Name, query) || strings.Contains(c.ID, query)) {
				continue
			}
			seen[c.ID] = true
			out = append(out, Contact{ID: c.ID, Name: c.Name, pool: f.pool})
		}
		return nil
	})
	return out, err
}

// Find returns the first contact whose name or ID contains query.
func (f ContactFinder) Find(ctx context.Context, query string) (Contact, error) {
	cs, err := f.FindAll(ctx, query)
	if len(cs) > 0 {
		return cs[0], nil
	}
	if err != nil {
		return Contact{}, err
	}
	return Contact{}, fmt.Errorf("%w: contact %q", ErrNotFound, query)
}

// eachLoggedIn calls f for the puppet of every logged-in bot, in pool
// order. It returns the joined errors only when no call succeeded.
func (p *Pool) eachLoggedIn(ctx context.Context, f func(ctx context.Context, bot string, p puppet.Puppet) error) error {
	var errs []error
	ok := 0
	for id, b := range p.st.State().Bots.All() {
		if !b.LoggedIn {
			continue
		}
		pup, found := p.puppet(id)
		if !found {
			continue
		}
		if err := f(ctx, id, pup); err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: bot %q: %w", id, err))
			continue
		}
		ok++
	}
	if ok == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	if ok == 0 {
		return ErrNoBot
	}
	return nil
}

func mergeIDs(into, more []string) []string {
	for _, id := range more {
		found := false
		for _, x := range into {
			if x == id {
				found = true
				break
			}
		}
		if !found {
			into = append(into, id)
		}
	}
	return into
}
