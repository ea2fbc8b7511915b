package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/store"
	"github.com/samber/lo"
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
// empty query), each once, in the order first seen. The bots are asked
// at once; bots that cannot list rooms are skipped; if every bot fails,
// their errors are returned. FindAll returns by ctx's end even when a
// puppet ignores its context.
func (f RoomFinder) FindAll(ctx context.Context, query string) ([]Room, error) {
	var out []Room
	index := map[string]int{}
	err := eachLoggedIn(ctx, f.pool, func(ctx context.Context, bot string, p puppet.Puppet) ([]puppet.Room, error) {
		rooms, err := p.Rooms(ctx)
		if err == nil {
			// The full list is at hand: routing learns rooms joined since login.
			f.pool.roomsListed(bot, rooms)
		}
		return rooms, err
	}, func(_ string, rooms []puppet.Room) {
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

// FindAll returns the contacts whose name or ID contains query, each
// once, asking every logged-in bot at once (see RoomFinder.FindAll).
func (f ContactFinder) FindAll(ctx context.Context, query string) ([]Contact, error) {
	var out []Contact
	seen := map[string]bool{}
	err := eachLoggedIn(ctx, f.pool, func(ctx context.Context, _ string, p puppet.Puppet) ([]puppet.Contact, error) {
		return p.Contacts(ctx)
	}, func(_ string, cs []puppet.Contact) {
		for _, c := range cs {
			if seen[c.ID] || !(strings.Contains(c.Name, query) || strings.Contains(c.ID, query)) {
				continue
			}
			seen[c.ID] = true
			out = append(out, Contact{ID: c.ID, Name: c.Name, pool: f.pool})
		}
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

// eachLoggedIn calls fetch for the puppet of every logged-in bot, all at
// once, then hands each result to collect in pool order, on the caller's
// goroutine. It returns by ctx's end even when a puppet ignores its
// context, and the joined errors only when no call succeeded.
func eachLoggedIn[T any](ctx context.Context, p *Pool, fetch func(ctx context.Context, bot string, p puppet.Puppet) (T, error), collect func(bot string, v T)) error {
	type answer struct {
		v   T
		err error
	}
	type call struct {
		bot string
		ch  chan answer
	}
	var calls []call
	for id, b := range p.st.pool().Bots.All() {
		if !b.LoggedIn {
			continue
		}
		pup, found := p.puppet(id)
		if !found {
			continue
		}
		c := call{bot: id, ch: make(chan answer, 1)}
		go func() {
			v, err := fetch(ctx, id, pup)
			c.ch <- answer{v, err}
		}()
		calls = append(calls, c)
	}
	var errs []error
	ok := 0
	for _, c := range calls {
		var ans answer
		select {
		case ans = <-c.ch: // an answer in hand is kept, whatever ctx says
		default:
			select {
			case ans = <-c.ch:
			case <-ctx.Done():
				ans.err = ctx.Err()
			}
		}
		if ans.err != nil {
			errs = append(errs, fmt.Errorf("hawechaty: bot %q: %w", c.bot, ans.err))
			continue
		}
		collect(c.bot, ans.v)
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

// roomsListed records the full list of the rooms a bot is in: a fact a
// lookup learned, dispatched as the rooms epic would.
func (p *Pool) roomsListed(bot string, rooms []puppet.Room) {
	ids := lo.Map(rooms, func(r puppet.Room, _ int) string { return r.ID })
	if err := p.st.dispatch(actions.RoomsLearned.New(actions.RoomsPayload{Bot: bot, Rooms: ids}).WithSource("puppet/" + bot)); err != nil && !errors.Is(err, store.ErrStopped) {
		p.log.Warn("hawechaty: rooms refused", "bot", bot, "err", err)
	}
}

func mergeIDs(into, more []string) []string { return lo.Union(into, more) }
