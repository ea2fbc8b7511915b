package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review of the state cell (the state copied into reused slots, read
// without a lock, boxed lazily) and of the typed sameState.

var setTo = actions.Define[setPayload]("review/SET")

// setPayload carries the next state of an interface-typed store: the
// reducer returns V as it is (nil included).
type setPayload struct{ V any }

type pair struct{ A, B int }

// withSlice is a comparable struct whose == panics when F holds a slice.
type withSlice struct{ F any }

func setReducer(prev any, a actions.Action) any {
	if p, ok := setTo.Match(a); ok {
		return p.V
	}
	return prev
}

// TestReviewInterfaceStateStream: with S = any, the state stream emits the
// state before Init, then each state that is not == the one before:
// another dynamic type is a change, nil after nil is not, a slice (==
// panics) is always a change, and Replace always emits. Each Replaced
// payload's Prev is the state before it, nil included.
func TestReviewInterfaceStateStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []any
		s, err := store.New(setReducer, nil, store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		sub := s.Subscribe(64)
		require.NoError(t, s.Start(t.Context()))
		sl := []int{1}
		steps := []any{nil, 1, 1, "1", "1", sl, sl, pair{1, 1}, pair{1, 1}, withSlice{sl}, withSlice{sl}, withSlice{2}, withSlice{2}, nil, nil}
		for _, v := range steps {
			require.NoError(t, s.Dispatch(setTo.New(setPayload{v})))
			require.Equal(t, v, s.State(), "a read after Dispatch returned sees it")
		}
		require.NoError(t, s.Replace(nil, "devtools")) // the same nil: emits
		require.NoError(t, s.Replace(pair{2, 2}, "devtools"))
		require.NoError(t, s.Replace(pair{2, 2}, "devtools")) // the same: emits
		assert.Equal(t, pair{2, 2}, s.State())
		synctest.Wait()
		s.Stop()
		want := []any{
			nil, // before Init; Init and SET nil change nothing
			1, "1", sl, sl, pair{1, 1}, withSlice{sl}, withSlice{sl}, withSlice{2}, nil,
			nil, pair{2, 2}, pair{2, 2}, // the Replaces
		}
		mu.Lock()
		assert.Equal(t, want, got)
		mu.Unlock()
		var prevs []any
		for c := range sub.C() {
			if p, ok := actions.Replaced.Match(c.Action); ok {
				prevs = append(prevs, p.Prev)
			}
		}
		assert.Equal(t, []any{nil, nil, pair{2, 2}}, prevs, "Replaced's Prev is the state before")
	})
}

// TestReviewErrorStateStream: S an interface type other than any (error):
// identity of the dynamic pointer values, nil included, and a stream item
// that holds the dynamic value.
func TestReviewErrorStateStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e1, e2 := errors.New("one"), errors.New("one")
		reducer := func(prev error, a actions.Action) error {
			p, ok := setTo.Match(a)
			if !ok {
				return prev
			}
			if p.V == nil {
				return nil
			}
			return p.V.(error)
		}
		var mu sync.Mutex
		var got []error
		s, err := store.New(reducer, error(nil), store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		for _, v := range []any{nil, e1, e1, e2, nil, nil, e2} {
			require.NoError(t, s.Dispatch(setTo.New(setPayload{v})))
		}
		assert.Same(t, e2, s.State())
		synctest.Wait()
		s.Stop()
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 5)
		assert.Nil(t, got[0])
		assert.Same(t, e1, got[1])
		assert.Same(t, e2, got[2], "equal text, another pointer: a change")
		assert.Nil(t, got[3])
		assert.Same(t, e2, got[4])
	})
}

// TestReviewInterfaceStateIsNeverTorn: with S = any holding values of
// several dynamic types in turn (nil among them), every State read by
// another goroutine while commits go on is one whole committed value,
// and a read that happens after Dispatch returned sees that dispatch.
func TestReviewInterfaceStateIsNeverTorn(t *testing.T) {
	s, err := store.New(setReducer, nil)
	require.NoError(t, err)
	value := func(i int) any {
		switch i % 5 {
		case 0:
			return nil
		case 1:
			return i
		case 2:
			return fmt.Sprint(i)
		case 3:
			return []int{i, i}
		default:
			return pair{i, i}
		}
	}
	whole := func(v any) bool {
		switch v := v.(type) {
		case nil:
			return true
		case int:
			return v%5 == 1
		case string:
			var n int
			_, err := fmt.Sscan(v, &n)
			return err == nil && n%5 == 2
		case []int:
			return len(v) == 2 && v[0] == v[1] && v[0]%5 == 3
		case pair:
			return v.A == v.B && v.A%5 == 4
		}
		return false
	}
	const n = 3000
	stop := readInLoops(func() string {
		if v := s.State(); !whole(v) {
			return fmt.Sprintf("%T %#v", v, v)
		}
		return ""
	})
	var wg sync.WaitGroup
	// A reader that is told, after Dispatch returned, what to expect.
	told := make(chan int)
	stale := make(chan string, 1)
	wg.Go(func() {
		for i := range told {
			if v := s.State(); fmt.Sprint(v) != fmt.Sprint(value(i)) {
				select {
				case stale <- fmt.Sprintf("after dispatch %d: %#v", i, v):
				default:
				}
			}
			told <- i
		}
	})
	for i := range n {
		require.NoError(t, s.Dispatch(setTo.New(setPayload{value(i)})))
		told <- i
		<-told
	}
	close(told)
	wg.Wait()
	assert.Empty(t, stop(), "a torn read")
	select {
	case msg := <-stale:
		t.Fatal("a stale read: " + msg)
	default:
	}
}

// TestReviewNonComparableStateReads: a slice state is read whole and
// emitted after every commit, including a reducer that returns prev.
func TestReviewNonComparableStateReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		appendType := func(prev []string, a actions.Action) []string {
			if noise.Is(a) {
				return prev
			}
			return append(prev[:len(prev):len(prev)], a.Type)
		}
		var mu sync.Mutex
		var got [][]string
		s, err := store.New(appendType, []string{}, store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Dispatch(noise.New(actions.Empty{})))
		require.NoError(t, s.Dispatch(add.New(1)))
		assert.Equal(t, []string{actions.Init.Type(), add.Type()}, s.State())
		synctest.Wait()
		s.Stop()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, [][]string{{}, {actions.Init.Type()}, {actions.Init.Type()}, {actions.Init.Type(), add.Type()}}, got)
	})
}

// TestReviewStateFromEveryPlace: State called from inside a reducer
// (Dispatch, Replace, ReplaceReducer), a middleware, a Select function,
// a subscriber's goroutine and a direct epic's take returns without
// waiting, and gives the committed state of that moment.
func TestReviewStateFromEveryPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s *store.Store[int]
		var inReducer, inMiddleware, inSelect, inTake []int
		var mu sync.Mutex
		reducer := func(prev int, a actions.Action) int {
			inReducer = append(inReducer, s.State())
			return counter(prev, a)
		}
		mw := func(api store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
			return func(next store.DispatchFunc) store.DispatchFunc {
				return func(a actions.Action) error {
					mu.Lock()
					inMiddleware = append(inMiddleware, api.State())
					mu.Unlock()
					err := next(a)
					mu.Lock()
					inMiddleware = append(inMiddleware, api.State())
					mu.Unlock()
					return err
				}
			}
		}
		tk := &stateTaker{}
		selected := make(chan int, 64)
		var err error
		s, err = store.New(reducer, 0, store.WithMiddleware(mw),
			store.WithEpic("take", func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
				tk.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
				tk.s = s
				tk.mu = &mu
				tk.got = &inTake
				return tk
			}),
			store.WithEpic("select", func(ctx context.Context, _ rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
				return store.Select(ss, func(n int) int {
					inSelect = append(inSelect, s.State()) // under the store's lock
					return n
				}).Filter(func(v any) bool { selected <- v.(int); return false }, rxgo.WithContext(ctx))
			}))
		require.NoError(t, err)
		sub := s.Subscribe(64)
		subReads := make(chan int, 64)
		go func() {
			for c := range sub.C() {
				subReads <- c.State
				_ = s.State()
			}
			close(subReads)
		}()
		require.NoError(t, s.Start(t.Context()))
		synctest.Wait()
		require.NoError(t, s.Dispatch(add.New(1)))
		require.NoError(t, s.Replace(10, "devtools"))
		require.NoError(t, s.ReplaceReducer(func(prev int, a actions.Action) int {
			inReducer = append(inReducer, s.State())
			return counter(prev, a) * 1
		}))
		require.NoError(t, s.Dispatch(add.New(2)))
		assert.Equal(t, 12, s.State())
		synctest.Wait()
		s.Stop()
		// Init (0), ADD 1 (0), Replace (1: the reducer runs on 10, State
		// is still 1), REDUCER_REPLACED (10), ADD 2 (10).
		assert.Equal(t, []int{0, 0, 1, 10, 10}, inReducer)
		mu.Lock()
		assert.Equal(t, []int{0, 0, 0, 1, 10, 12}, inMiddleware, "Init, ADD 1, ADD 2: before and after each")
		assert.Equal(t, []int{0, 1, 10, 10, 12}, inTake, "Init, ADD, Replaced, REDUCER_REPLACED, ADD")
		mu.Unlock()
		var reads []int
		for v := range subReads {
			reads = append(reads, v)
		}
		assert.Equal(t, []int{0, 1, 10, 10, 12}, reads)
		var sel []int
		for range len(selected) {
			sel = append(sel, <-selected)
		}
		assert.Equal(t, []int{0, 1, 10, 12}, sel, "Select: the first, then each new value")
		assert.NotEmpty(t, inSelect)
	})
}

// stateTaker is a direct epic whose take reads the store's state.
type stateTaker struct {
	rxgo.Observable
	s   *store.Store[int]
	mu  *sync.Mutex
	got *[]int
}

func (t *stateTaker) Input() func(actions.Action) {
	return func(actions.Action) {
		v := t.s.State()
		t.mu.Lock()
		*t.got = append(*t.got, v)
		t.mu.Unlock()
	}
}

// seqTaker is a direct epic that records the Seq of every action it
// takes, spins a little to widen the windows between dispatchers, and
// answers each PING with a PONG.
type seqTaker struct {
	rxgo.Observable
	emit  func(rxgo.Item) bool
	mu    sync.Mutex
	seqs  []uint64
	want  int
	done  chan struct{}
	busy  atomic.Int32
	twice atomic.Bool
}

func (t *seqTaker) Direct(emit func(rxgo.Item) bool) { t.emit = emit }

func (t *seqTaker) Input() func(actions.Action) {
	return func(a actions.Action) {
		if t.busy.Add(1) > 1 {
			t.twice.Store(true)
		}
		defer t.busy.Add(-1)
		if a.Meta.Seq%7 == 0 {
			runtime.Gosched()
		}
		t.mu.Lock()
		t.seqs = append(t.seqs, a.Meta.Seq)
		if len(t.seqs) == t.want {
			close(t.done)
		}
		t.mu.Unlock()
		if n, ok := ping.Match(a); ok && n%3 == 0 {
			t.emit(rxgo.Of(pong.New(n)))
		}
	}
}

// TestReviewDrainStrandsNothing: many goroutines dispatch while a direct
// epic takes (and dispatches from take); a drainer that finds the queue
// empty and stops must not strand an action queued right then. Every
// action is taken exactly once, in Seq order, and the backlog ends at 0
// without any further dispatch.
func TestReviewDrainStrandsNothing(t *testing.T) {
	const dispatchers, each = 6, 200
	for round := range 10 {
		pongs := dispatchers * ((each + 2) / 3) // PING n with n%3 == 0, n in [0, each)
		tk := &seqTaker{want: 1 + dispatchers*each + pongs, done: make(chan struct{})}
		s, err := store.New(counter, 0, store.WithEpic("taker", func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			tk.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
			return tk
		}))
		require.NoError(t, err)
		require.NoError(t, s.Start(t.Context()))
		var wg sync.WaitGroup
		for range dispatchers {
			wg.Go(func() {
				for i := range each {
					assert.NoError(t, s.Dispatch(ping.New(i)))
				}
			})
		}
		wg.Wait()
		select {
		case <-tk.done:
		case <-time.After(30 * time.Second): // a deadline, not a wait: done comes at once unless an action is stranded
			tk.mu.Lock()
			n := len(tk.seqs)
			tk.mu.Unlock()
			s.Stop()
			t.Fatalf("round %d: %d of %d actions taken, backlog %d: stranded", round, n, tk.want, s.EpicBacklog())
		}
		s.Stop()
		tk.mu.Lock()
		seqs := tk.seqs
		tk.mu.Unlock()
		require.Len(t, seqs, tk.want)
		for i, q := range seqs {
			if q != uint64(i+1) {
				t.Fatalf("round %d: take %d got Seq %d, want %d (each once, in order)", round, i, q, i+1)
			}
		}
		assert.False(t, tk.twice.Load(), "take ran on two goroutines at once")
		assert.Zero(t, s.EpicBacklog())
	}
}

// handOffTaker is a direct epic whose take of PING 1 has another
// goroutine dispatch PING 2 and waits until that Dispatch returned: the
// other dispatcher finds this one draining and leaves PING 2 to it.
type handOffTaker struct {
	rxgo.Observable
	s     *store.Store[int]
	mu    sync.Mutex
	taken []string
}

func (t *handOffTaker) Input() func(actions.Action) {
	return func(a actions.Action) {
		t.mu.Lock()
		t.taken = append(t.taken, fmt.Sprint(a))
		t.mu.Unlock()
		if n, ok := ping.Match(a); ok && n == 1 {
			done := make(chan error)
			go func() { done <- t.s.Dispatch(ping.New(2)) }()
			if err := <-done; err != nil {
				panic(err)
			}
		}
	}
}

// TestReviewDrainTakesWhatAnotherQueuedDuringTheLastTake: an action
// another goroutine queues while the drainer takes what it believes is
// the last one is taken by that drainer before its Dispatch returns,
// with no further dispatch.
func TestReviewDrainTakesWhatAnotherQueuedDuringTheLastTake(t *testing.T) {
	tk := &handOffTaker{}
	s, err := store.New(counter, 0, store.WithEpic("handoff", func(ctx context.Context, _ rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
		tk.Observable = rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) { <-ctx.Done() }}, rxgo.WithContext(ctx))
		return tk
	}))
	require.NoError(t, err)
	tk.s = s
	require.NoError(t, s.Start(t.Context()))
	defer s.Stop()
	require.NoError(t, s.Dispatch(ping.New(1)))
	tk.mu.Lock()
	assert.Equal(t, []string{actions.Init.Type(), "test/PING 1", "test/PING 2"}, tk.taken)
	tk.mu.Unlock()
	assert.Zero(t, s.EpicBacklog())
}

// TestReviewStateWhileNewBuildsTheChain: a middleware factory reads the
// initial state while New builds the chain.
func TestReviewStateWhileNewBuildsTheChain(t *testing.T) {
	var seen []int
	mw := func(api store.API[int]) func(store.DispatchFunc) store.DispatchFunc {
		seen = append(seen, api.State())
		return func(next store.DispatchFunc) store.DispatchFunc {
			seen = append(seen, api.State())
			return next
		}
	}
	s, err := store.New(counter, 41, store.WithMiddleware(mw))
	require.NoError(t, err)
	require.NoError(t, s.Dispatch(add.New(1)))
	assert.Equal(t, []int{41, 41}, seen)
	assert.Equal(t, 42, s.State())
}

// TestReviewStateStreamFollowsTheCommitsUnderConcurrency: with several
// goroutines dispatching and replacing at once, the state stream is
// exactly the committed states in commit order (as a subscriber sees
// them), each emitted when it is not == the one before or came from a
// Replace, and nothing else.
func TestReviewStateStreamFollowsTheCommitsUnderConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []int
		s, err := store.New(counter, 0, store.WithEpic("watch", observeStates(&mu, &got)))
		require.NoError(t, err)
		sub := s.Subscribe(store.MaxBuffer)
		require.NoError(t, s.Start(t.Context()))
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 300 {
					switch (g + i) % 4 {
					case 0:
						assert.NoError(t, s.Replace(i%3, "test"))
					case 1:
						assert.NoError(t, s.Dispatch(add.New(0)))
					default:
						assert.NoError(t, s.Dispatch(add.New(i%2)))
					}
					if i%50 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		s.Stop()
		want := []int{0}
		last := 0
		seq := uint64(0)
		for c := range sub.C() {
			require.Equal(t, seq+1, c.Action.Meta.Seq, "a subscriber sees every commit")
			seq = c.Action.Meta.Seq
			if actions.Replaced.Is(c.Action) || c.State != last {
				want = append(want, c.State)
			}
			if p, ok := actions.Replaced.Match(c.Action); ok {
				require.Equal(t, last, p.Prev, "Replaced's Prev is the state before")
			}
			last = c.State
		}
		require.Zero(t, sub.Dropped())
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, want, got)
	})
}
