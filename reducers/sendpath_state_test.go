package reducers_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// TestOldStatesOutliveNewerSends holds what the send path's records
// (Send records handed out a chunk at a time, tables that record changes
// in shared nodes, deletions that leave the value's slot as it was) must
// keep: every state a subscriber holds reads as it did when it was
// committed, however many Says (and compactions of the sends) follow,
// and the records it holds are never written again.
func TestOldStatesOutliveNewerSends(t *testing.T) {
	for _, cfg := range []reducers.Config{
		reducers.Config{}.Defaults(),
		reducers.Config{RateLimit: reducers.RateLimit{Sends: -1}}.Defaults(),
	} {
		reduce := cfg.Reducer()
		start := time.Unix(1_700_000_000, 0)
		seq := uint64(0)
		var s reducers.Pool
		do := func(a actions.Action, at time.Time) {
			seq++
			a.Meta.Seq, a.Meta.Time = seq, at
			s = reduce(s, a)
		}
		for i := range 5 {
			do(added(fmt.Sprintf("bot-%d", i)), start)
			do(login(fmt.Sprintf("bot-%d", i)), start)
		}
		type held struct {
			s    reducers.Pool
			json string
			send string // the held state's record, as it was
			rec  *reducers.Send
		}
		var kept []held
		keep := func(id string) {
			h := held{s: s, json: mustJSON(t, s)}
			if sd, ok := s.Sends.Get(id); ok {
				h.send, h.rec = fmt.Sprintf("%+v", *sd), sd
			}
			kept = append(kept, h)
		}
		for i := range 300 { // several compactions of the sends
			id := fmt.Sprintf("send-%d", i)
			at := start.Add(time.Duration(i+1) * time.Second)
			do(requested(id, "alice"), at)
			keep(id)
			sd, _ := s.Sends.Get(id)
			do(result(id, sd.Bot, 1, actions.Delivered), at.Add(time.Millisecond))
			keep(id)
			if i%3 != 0 { // some sends stay uncollected a while
				do(collected(id), at.Add(2*time.Millisecond))
				keep(id)
			}
			if i%3 == 0 && i >= 3 {
				do(collected(fmt.Sprintf("send-%d", i-3)), at.Add(3*time.Millisecond))
				keep(id)
			}
		}
		for i, h := range kept {
			if got := mustJSON(t, h.s); got != h.json {
				t.Fatalf("state %d changed after newer reductions:\nwas %s\nnow %s", i, h.json, got)
			}
			if h.rec != nil && fmt.Sprintf("%+v", *h.rec) != h.send {
				t.Fatalf("state %d: its send record was written again: was %s, now %+v", i, h.send, *h.rec)
			}
			if err := checkPool(cfg, h.s); err != nil {
				t.Fatalf("state %d: %v", i, err)
			}
		}
		if s.Delivered != 300 {
			t.Fatalf("%d delivered, want 300", s.Delivered)
		}
	}
}

// TestBranchesReduceConcurrently reduces Says on branches of one state
// from several goroutines at once, as stores sharing a reducer, or time
// travel, do: under -race it checks that records handed out to one
// reduction are never handed to another, and every branch ends as a lone
// reduction of the same actions would.
func TestBranchesReduceConcurrently(t *testing.T) {
	reduce := reducers.PoolReducer
	start := time.Unix(1_700_000_000, 0)
	var base reducers.Pool
	seq := uint64(0)
	for i := range 3 {
		for _, a := range []actions.Action{added(fmt.Sprintf("bot-%d", i)), login(fmt.Sprintf("bot-%d", i))} {
			seq++
			a.Meta.Seq, a.Meta.Time = seq, start
			base = reduce(base, a)
		}
	}
	run := func() (reducers.Pool, string) {
		s, n := base, seq
		do := func(a actions.Action, at time.Time) {
			n++
			a.Meta.Seq, a.Meta.Time = n, at
			s = reduce(s, a)
		}
		for i := range 200 {
			id := fmt.Sprintf("send-%d", i)
			at := start.Add(time.Duration(i+1) * time.Second)
			do(requested(id, "alice"), at)
			sd, _ := s.Sends.Get(id)
			do(result(id, sd.Bot, 1, actions.Delivered), at)
			do(collected(id), at)
		}
		return s, mustJSON(t, s)
	}
	_, want := run()
	var wg sync.WaitGroup
	got := make([]string, 4)
	for g := range got {
		wg.Go(func() { _, got[g] = run() })
	}
	wg.Wait()
	for g, j := range got {
		if j != want {
			t.Fatalf("branch %d ended as %s, want %s", g, j, want)
		}
	}
	if j := mustJSON(t, base); j == want {
		t.Fatal("the branches' base changed")
	}
}
