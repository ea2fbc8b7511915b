package epics_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctxPuppet is a puppet whose Say is a function of its context, for the
// tests of how the caller's context bounds a send.
type ctxPuppet struct {
	fakePuppet
	say func(ctx context.Context) error
}

func (p *ctxPuppet) Say(ctx context.Context, to, text string) error {
	p.mu.Lock()
	p.says = append(p.says, to+":"+text)
	p.mu.Unlock()
	return p.say(ctx)
}

// TestSendCallerGoneIsNotTheBotsFault: when the caller's context (given by
// Deps.SendContext) ends a send, the outcome is "canceled" (not sent) or
// "abandoned" (may have left), neither of which counts as a failed send of
// the bot: EjectAfter such sends leave it available, and none is retried
// on the other bot. Only the attempt's own SendTimeout is held against the
// bot (the last case, the control).
func TestSendCallerGoneIsNotTheBotsFault(t *testing.T) {
	const sendTimeout = 10 * time.Second
	tests := []struct {
		name string
		// caller returns the context of one Say; say is b1's behaviour.
		caller      func() (context.Context, context.CancelFunc)
		say         func(ctx context.Context, cancelCaller context.CancelFunc) error
		wantOutcome string
		wantSays    int // b1's Say calls over EjectAfter sends
		wantFailed  bool
	}{
		{
			name: "done before routing",
			caller: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			say:         func(context.Context, context.CancelFunc) error { return nil },
			wantOutcome: "@ canceled",
		},
		{
			name:   "canceled during an attempt that was not sent",
			caller: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			say: func(ctx context.Context, cancelCaller context.CancelFunc) error {
				cancelCaller()
				return fmt.Errorf("aborted: %w: %w", puppet.ErrNotSent, ctx.Err())
			},
			wantOutcome: "@b1 canceled",
			wantSays:    3,
		},
		{
			name: "caller deadline during an attempt of unknown outcome",
			caller: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Second)
			},
			say: func(ctx context.Context, _ context.CancelFunc) error {
				<-ctx.Done()
				return fmt.Errorf("no answer: %w: %w", puppet.ErrOutcomeUnknown, ctx.Err())
			},
			wantOutcome: "@b1 abandoned",
			wantSays:    3,
		},
		{
			name: "control: the attempt's SendTimeout is the bot's fault",
			caller: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Hour)
			},
			say: func(ctx context.Context, _ context.CancelFunc) error {
				<-ctx.Done()
				return fmt.Errorf("no answer: %w: %w", puppet.ErrOutcomeUnknown, ctx.Err())
			},
			wantOutcome: "@b1 outcome unknown",
			wantSays:    3,
			wantFailed:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				callers := map[string]context.Context{}
				b1 := &ctxPuppet{fakePuppet: *newFake("b1")}
				b2 := newFake("b2")
				var st *store.Store[reducers.Pool]
				deps := epics.Deps{
					Puppet: func(b string) (puppet.Puppet, bool) {
						switch b {
						case "b1":
							return b1, true
						case "b2":
							return b2, true
						}
						return nil, false
					},
					Dispatch: func(a actions.Action) error { return st.Dispatch(a) },
					SendContext: func(id string) context.Context {
						mu.Lock()
						defer mu.Unlock()
						return callers[id]
					},
				}
				cfg := epics.Config{SendTimeout: sendTimeout, EjectAfter: 3}
				st, err := store.New(reducers.PoolReducer, reducers.Pool{}, store.WithEpic("send", epics.Send(cfg, deps)))
				require.NoError(t, err)
				sub := st.Subscribe(1000)
				require.NoError(t, st.Start(t.Context()))
				defer st.Stop()
				for _, b := range []string{"b1", "b2"} {
					require.NoError(t, st.Dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: b, Puppet: "fake"})))
					require.NoError(t, st.Dispatch(actions.Login.New(actions.LoginPayload{Bot: b, Self: b})))
				}

				for i := range cfg.EjectAfter {
					id := fmt.Sprint("s", i)
					ctx, cancel := tt.caller()
					defer cancel()
					mu.Lock()
					callers[id] = ctx
					mu.Unlock()
					b1.say = func(ctx context.Context) error { return tt.say(ctx, cancel) }
					// Each send starts on b1: round robin is put back.
					require.NoError(t, st.Replace(withCursor(st.State(), 0), "test"))
					require.NoError(t, st.Dispatch(actions.SendRequested.New(actions.SendPayload{ID: id, To: "alice", Text: "hi"})))
					time.Sleep(2 * sendTimeout) // every case's wait has ended by then
					synctest.Wait()
				}
				var done []string
				for {
					select {
					case c := <-sub.C():
						if d, ok := actions.SendDone.Match(c.Action); ok {
							done = append(done, fmt.Sprintf("%s@%s %s", d.ID, d.Bot, d.Outcome))
						}
						continue
					default:
					}
					break
				}
				var want []string
				for i := range cfg.EjectAfter {
					want = append(want, fmt.Sprint("s", i)+tt.wantOutcome)
				}
				assert.Equal(t, want, done)
				assert.Len(t, b1.said(), tt.wantSays)
				assert.Empty(t, b2.said(), "a send whose caller left is never tried on another bot")
				bot, _ := st.State().Bots.Get("b1")
				assert.Equal(t, tt.wantFailed, !bot.Available, "b1 ejected: %q", bot.Reason)
			})
		})
	}
}

// withCursor returns s with round robin set to resume at position i.
func withCursor(s reducers.Pool, i int) reducers.Pool {
	s.Cursor = i
	return s
}
