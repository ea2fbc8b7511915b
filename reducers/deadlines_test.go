package reducers_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dl is one deadline, for the sorted-slice model.
type dl struct {
	t   int64
	bot string
}

func cmpDL(a, b dl) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	return cmp.Compare(a.bot, b.bot)
}

func list(d reducers.Deadlines) []dl {
	var out []dl
	for t, bot := range d.Ascend() {
		out = append(out, dl{t.UnixNano(), bot})
	}
	return out
}

func ts(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func TestDeadlinesBasics(t *testing.T) {
	var d reducers.Deadlines
	_, _, ok := d.Min()
	assert.False(t, ok)
	assert.Zero(t, d.Len())
	assert.Empty(t, list(d))

	d = d.Move("b", time.Time{}, ts(5)).Move("a", time.Time{}, ts(5)).Move("c", time.Time{}, ts(3))
	at, bot, ok := d.Min()
	require.True(t, ok)
	assert.True(t, at.Equal(ts(3)))
	assert.Equal(t, "c", bot)
	assert.Equal(t, []dl{{ts(3).UnixNano(), "c"}, {ts(5).UnixNano(), "a"}, {ts(5).UnixNano(), "b"}}, list(d), "by time, then by bot")

	d = d.Move("c", ts(3), ts(9))
	_, bot, _ = d.Min()
	assert.Equal(t, "a", bot, "moved later")
	assert.Equal(t, 3, d.Len())

	d = d.Move("a", ts(5), time.Time{})
	assert.Equal(t, 2, d.Len(), "moved to none: removed")
	assert.Equal(t, []dl{{ts(5).UnixNano(), "b"}, {ts(9).UnixNano(), "c"}}, list(d))

	same := d.Move("b", ts(5), ts(5))
	assert.True(t, same == d, "a move to where it is returns the same value")
	assert.True(t, d.Move("x", time.Time{}, time.Time{}) == d, "nothing to nothing")

	d = d.Move("x", ts(1), ts(2))
	assert.Equal(t, 3, d.Len(), "a move from a deadline that is not there only adds")

	// Ascend stops when asked.
	n := 0
	for range d.Ascend() {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

// TestDeadlinesPersistence: a Move makes a new version and leaves every
// older one as it was, however many versions follow.
func TestDeadlinesPersistence(t *testing.T) {
	var d reducers.Deadlines
	for i := range 1000 {
		d = d.Move(fmt.Sprintf("bot-%d", i), time.Time{}, ts(i*7%1000))
	}
	type version struct {
		d    reducers.Deadlines
		want []dl
	}
	versions := []version{{d, list(d)}}
	cur := d
	times := make([]int, 1000)
	for i := range times {
		times[i] = i * 7 % 1000
	}
	for k := range 5000 {
		i := k * 31 % 1000
		next := (times[i] + 1 + k%13) % 2000
		cur = cur.Move(fmt.Sprintf("bot-%d", i), ts(times[i]), ts(next))
		times[i] = next
		if k%250 == 0 {
			versions = append(versions, version{cur, list(cur)})
		}
	}
	for j, v := range versions {
		assert.Equal(t, v.want, list(v.d), "version %d changed", j)
		assert.Equal(t, 1000, v.d.Len())
	}
	// A branch from an old version leaves the newer ones alone too.
	branch := versions[0].d.Move("bot-0", ts(0), ts(5000)).Move("bot-1", ts(7), time.Time{})
	assert.Equal(t, 999, branch.Len())
	for j, v := range versions {
		assert.Equal(t, v.want, list(v.d), "version %d changed by a branch", j)
	}
}

// FuzzDeadlines checks Deadlines against a sorted slice: every Move,
// whether from the bot's current deadline (as the reducer does), from one
// that is not there, or to none, gives the same Len, Min and order, and
// every earlier version still reads as it did.
func FuzzDeadlines(f *testing.F) {
	f.Add([]byte{0, 1, 2, 1, 3, 1, 0, 5, 0, 0})
	f.Add([]byte{7, 7, 7, 7, 7, 0, 7, 7, 129, 3, 130, 3, 66, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d reducers.Deadlines
		var model []dl
		cur := map[string]int64{} // the bot's deadline as the caller knows it
		type version struct {
			d    reducers.Deadlines
			want []dl
		}
		var versions []version
		for i := 0; i+1 < len(data); i += 2 {
			op, arg := data[i], data[i+1]
			bot := fmt.Sprintf("b%d", op%8)
			var old, next time.Time
			switch op >> 6 {
			case 0, 1: // from where it is, as the reducer moves
				if c, ok := cur[bot]; ok {
					old = time.Unix(0, c)
				}
			case 2: // from somewhere it may not be
				old = ts(int(arg % 16))
			}
			if arg != 0 {
				next = ts(int(arg % 32))
			}
			if op>>6 == 1 && arg%5 == 0 {
				next = old // no change
			}
			versions = append(versions, version{d, slices.Clone(model)})
			d = d.Move(bot, old, next)

			// The model.
			if !(old.Equal(next) && !old.IsZero()) {
				if !old.IsZero() {
					if j, found := slices.BinarySearchFunc(model, dl{old.UnixNano(), bot}, cmpDL); found {
						model = slices.Delete(model, j, j+1)
					}
				}
				if !next.IsZero() {
					x := dl{next.UnixNano(), bot}
					j, _ := slices.BinarySearchFunc(model, x, cmpDL)
					model = slices.Insert(model, j, x)
					cur[bot] = x.t
				} else if !old.IsZero() && cur[bot] == old.UnixNano() {
					delete(cur, bot)
				}
			}

			if got := list(d); !slices.Equal(got, model) {
				t.Fatalf("after Move(%s, %v, %v):\ngot  %v\nwant %v", bot, old, next, got, model)
			}
			if d.Len() != len(model) {
				t.Fatalf("Len %d, want %d", d.Len(), len(model))
			}
			at, b, ok := d.Min()
			if ok != (len(model) > 0) || (ok && (at.UnixNano() != model[0].t || b != model[0].bot)) {
				t.Fatalf("Min %v %s %v, want %v", at, b, ok, model)
			}
		}
		for j, v := range versions {
			if got := list(v.d); !slices.Equal(got, v.want) || v.d.Len() != len(v.want) {
				t.Fatalf("version %d changed:\ngot  %v\nwant %v", j, got, v.want)
			}
		}
	})
}

// BenchmarkDeadlines measures the clock's two operations at 10,000 bots:
// Min (the next deadline) and Move (a bot's deadline changes).
func BenchmarkDeadlines(b *testing.B) {
	const n = 10_000
	bots := make([]string, n)
	times := make([]time.Time, n)
	var d reducers.Deadlines
	for i := range bots {
		bots[i] = fmt.Sprintf("bot-%d", i)
		times[i] = t0.Add(time.Duration(i*7919%n) * time.Millisecond)
		d = d.Move(bots[i], time.Time{}, times[i])
	}
	b.Run("Min/bots=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, ok := d.Min(); !ok {
				b.Fatal("empty")
			}
		}
	})
	b.Run("Move/bots=10000", func(b *testing.B) {
		b.ReportAllocs()
		cur, ts := d, slices.Clone(times)
		i := 0
		for b.Loop() {
			k := i * 7919 % n
			next := ts[k].Add(time.Duration(n+i%997) * time.Millisecond)
			cur = cur.Move(bots[k], ts[k], next)
			ts[k] = next
			i++
		}
		if cur.Len() != n {
			b.Fatalf("Len %d", cur.Len())
		}
	})
}
