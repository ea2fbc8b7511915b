package reducers_test

import (
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
)

// TestEndedMediaSendIsReleased holds the records of two text sends still
// under way, made just before and just after a media send, and lets go of
// everything else once the media send ended: its file's bytes must be
// garbage then. Records handed out a chunk at a time keep their chunk's
// neighbours alive while any of them is held: a send that waits for a
// bot must not keep the files of the sends made around it.
func TestEndedMediaSendIsReleased(t *testing.T) {
	var s reducers.Pool
	do := oneBot(&s)
	file := &actions.FileBox{Name: "big.bin", Data: make([]byte, 1<<20)}
	gone := weak.Make(file)
	do(requested("text-0", "alice"))
	do(actions.SendRequested.New(actions.SendPayload{ID: "media", To: "alice", Media: &actions.Media{Kind: actions.MediaFile, File: file}}))
	file = nil
	do(requested("text-1", "alice"))
	held := make([]*reducers.Send, 0, 2)
	for _, id := range []string{"text-0", "text-1"} {
		sd, ok := s.Sends.Get(id)
		if !ok {
			t.Fatalf("%s is not in the state", id)
		}
		held = append(held, sd)
	}
	sd, _ := s.Sends.Get("media")
	do(result("media", sd.Bot, sd.Attempt, actions.Delivered))
	do(collected("media"))
	s = reducers.Pool{} // a deletion may leave the value in the live table; only the records are held
	for range 3 {
		runtime.GC()
	}
	if gone.Value() != nil {
		t.Fatalf("the ended media send's file is still in memory, kept by the records of %s and %s", held[0].ID, held[1].ID)
	}
	runtime.KeepAlive(held)
}

// TestEndedKeepsNoFileBytes: a media send collected as it ends (as Say's
// are) stays in Pool.Ended until another send ends, so Ended keeps it
// without its file's bytes, which are garbage once the send ended; the
// record in Sends, which older states hold, still has them.
func TestEndedKeepsNoFileBytes(t *testing.T) {
	var s reducers.Pool
	do := oneBot(&s)
	file := &actions.FileBox{Name: "big.bin", Data: make([]byte, 1<<20), Size: 1 << 20}
	gone := weak.Make(file)
	do(actions.SendRequested.New(actions.SendPayload{ID: "media", To: "alice", Collect: true, Media: &actions.Media{Kind: actions.MediaFile, File: file}}))
	file = nil
	routed, _ := s.Sends.Get("media")
	do(result("media", routed.Bot, routed.Attempt, actions.Delivered))
	if routed.Media.File.Data == nil {
		t.Fatal("the routed record, which an older state holds, lost its bytes")
	}
	routed = nil
	ended := s.Ended
	if ended == nil || ended.ID != "media" || ended.Outcome != actions.Delivered || s.Sends.Has("media") {
		t.Fatalf("Ended %+v, in Sends: %v", ended, s.Sends.Has("media"))
	}
	if f := ended.Media.File; f.Data != nil || f.Size != 1<<20 || f.Name != "big.bin" {
		t.Fatalf("Ended's file: %+v", *f)
	}
	s = reducers.Pool{} // a deletion may leave the value in the live table; only Ended is held
	for range 3 {
		runtime.GC()
	}
	if gone.Value() != nil {
		t.Fatal("the file is still in memory, kept by Ended")
	}
	runtime.KeepAlive(ended)
}

// oneBot returns a function that reduces an action into *s, stamped as
// the store stamps it, after reducing a bot, bot-0, added and logged in.
func oneBot(s *reducers.Pool) func(actions.Action) {
	reduce := reducers.Config{}.Defaults().Reducer()
	start := time.Unix(1_700_000_000, 0)
	seq := uint64(0)
	do := func(a actions.Action) {
		seq++
		a.Meta.Seq, a.Meta.Time = seq, start.Add(time.Duration(seq)*time.Millisecond)
		*s = reduce(*s, a)
	}
	do(added("bot-0"))
	do(login("bot-0"))
	return do
}
