package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/samber/lo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewSaysEndOnceAndTrue runs many Says at once through bots that
// fail over (not sent), deliver slowly, or leave the outcome unknown,
// with callers whose contexts end before, while waiting, or during an
// attempt, and DevTools-like jumps replacing the state with an older one.
// Every Say returns once; a receipt's bot said the text; an error that
// says "not sent" (canceled, not sent, no bot) was said by no bot; at the
// end no Say waits on the doorbell, its spares are bounded by the Says,
// no send is left in the state and Ended holds one record.
func TestReviewSaysEndOnceAndTrue(t *testing.T) {
	for seed := range 3 {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { saysEndOnceAndTrue(t, seed) })
		})
	}
}

func saysEndOnceAndTrue(t *testing.T, seed int) {
	notSent := newFake("a")
	notSent.SetSayErr(fmt.Errorf("fake: %w", puppet.ErrNotSent))
	slow := newFake("b")
	slow.SetSayDelay(300 * time.Millisecond)
	unknown := newFake("c")
	unknown.SetSayDelay(100 * time.Millisecond)
	unknown.SetSayErr(fmt.Errorf("fake: %w", puppet.ErrOutcomeUnknown))
	fast := newFake("d")
	bots := []*fakePuppet{notSent, slow, unknown, fast}
	pool := startPool(t, []hawechaty.Option{hawechaty.WithSeed(uint64(seed))}, notSent, slow, unknown, fast)
	old := pool.State()

	const says = 80
	type res struct {
		text string
		r    hawechaty.Receipt
		err  error
	}
	var mu sync.Mutex
	var got []res
	var wg sync.WaitGroup
	for i := range says {
		wg.Go(func() {
			ctx := t.Context()
			switch i % 5 {
			case 1: // ends before the Say
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			case 2: // ends during the slow attempt
				c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				ctx = c
			}
			time.Sleep(time.Duration((i*7+seed)%40) * time.Millisecond) // spread in the bubble's time
			text := fmt.Sprint("m", i)
			r, err := pool.Say(ctx, "alice", text)
			mu.Lock()
			got = append(got, res{text, r, err})
			mu.Unlock()
		})
	}
	// Jump back once while the Says run.
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pool.Store().Replace(old, "devtools"))
	wg.Wait()
	synctest.Wait()

	require.Len(t, got, says)
	said := map[string]string{}
	for _, b := range bots {
		for _, s := range b.Said() {
			_, dup := said[s]
			assert.False(t, dup, "%s said twice", s)
			said[s] = b.Name()
		}
	}
	for _, g := range got {
		by, wasSaid := said["alice:"+g.text]
		if g.err == nil {
			assert.True(t, wasSaid, "%s: receipt %+v but no bot said it", g.text, g.r)
			assert.Equal(t, by, g.r.Bot, g.text)
			continue
		}
		var se *hawechaty.SendError
		if !errors.As(g.err, &se) {
			continue
		}
		switch se.Outcome {
		case actions.Canceled, actions.NotSent, actions.NoBot, actions.RateLimited:
			assert.False(t, wasSaid, "%s: %v but %s said it", g.text, g.err, by)
		}
	}
	waiting, spare := hawechaty.Bells(pool)
	assert.Zero(t, waiting, "Says still on the doorbell")
	assert.LessOrEqual(t, spare, says)
	require.NoError(t, pool.Stop(context.Background()))
	s := pool.State()
	for _, sd := range s.Sends.All() {
		assert.True(t, sd.Orphan || !sd.Collect, "a collected send left in the state: %+v", sd)
	}
	ids := slices.Collect(func(yield func(string) bool) {
		for _, g := range got {
			if g.err == nil && !yield(g.r.ID) {
				return
			}
		}
	})
	assert.Len(t, lo.Uniq(ids), len(ids), "a receipt twice")
	assert.NotEmpty(t, ids, "no Say delivered")
	assert.Less(t, len(ids), says, "every Say delivered: the failures were not exercised")
}

// TestReviewStopRacesSays stops the pool while Says wait on slow
// attempts: a Say that gets plain ErrStopped (not a SendError) was said
// by no bot, and every Say returns.
func TestReviewStopRacesSays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newFake("a"), newFake("b")
		a.SetSayDelay(100 * time.Millisecond)
		b.SetSayDelay(250 * time.Millisecond)
		pool := startPool(t, nil, a, b)
		const says = 30
		errs := make([]error, says)
		var wg sync.WaitGroup
		for i := range says {
			wg.Go(func() {
				time.Sleep(time.Duration(i*10) * time.Millisecond)
				_, errs[i] = pool.Say(t.Context(), "alice", fmt.Sprint("m", i))
			})
		}
		time.Sleep(120 * time.Millisecond)
		require.NoError(t, pool.Stop(context.Background()))
		wg.Wait()
		said := append(a.Said(), b.Said()...)
		stopped := 0
		for i, err := range errs {
			var se *hawechaty.SendError
			if errors.Is(err, hawechaty.ErrStopped) && !errors.As(err, &se) {
				stopped++
				assert.NotContains(t, said, fmt.Sprint("alice:m", i), "plain ErrStopped for a message that left")
			}
		}
		assert.Positive(t, stopped, "no Say after Stop")
		waiting, _ := hawechaty.Bells(pool)
		assert.Zero(t, waiting)
	})
}
