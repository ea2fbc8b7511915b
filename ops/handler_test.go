package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What ops needs of a pool, *hawechaty.Pool has.
var _ ops.StoreSource = (*hawechaty.Pool)(nil)

// get serves one request and returns the status and body.
func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(b)
}

func health(t *testing.T, h http.Handler) ops.Health {
	t.Helper()
	code, body := get(t, h, "/v1/health")
	require.Equal(t, http.StatusOK, code, body)
	var doc ops.Health
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	return doc
}

// fixture is a started pool of n mock bots (bot-1 …) and their world.
type fixture struct {
	world *mock.World
	bots  []*mock.Bot
	pool  *hawechaty.Pool
}

func newFixture(t *testing.T, n int, start bool, opts ...hawechaty.Option) *fixture {
	t.Helper()
	f := &fixture{world: mock.NewWorld()}
	t.Cleanup(func() { f.world.Close() })
	pool, err := hawechaty.New(append([]hawechaty.Option{hawechaty.WithSeed(7)}, opts...)...)
	require.NoError(t, err)
	f.pool = pool
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	for i := range n {
		b, err := f.world.AddBot(fmt.Sprintf("bot-%d", i+1))
		require.NoError(t, err)
		f.bots = append(f.bots, b)
		require.NoError(t, pool.Add(t.Context(), b))
	}
	if start {
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
	}
	return f
}

func TestHealthzReadyzAndHealthOfAHealthyPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 3, true)
		h := ops.Handler(f.pool)

		code, body := get(t, h, "/healthz")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok\n", body)

		code, body = get(t, h, "/readyz")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ready: 3 of 3 bots available, 1 needed\n", body)

		doc := health(t, h)
		p := doc.Health.Pool
		assert.Equal(t, ops.PoolUp, p.Status)
		assert.True(t, p.Ready)
		assert.False(t, p.Stopping)
		assert.Equal(t, 3, p.Bots)
		assert.Equal(t, 3, p.Available)
		assert.Equal(t, map[ops.Status]int{ops.Connected: 3, ops.Connecting: 0, ops.Disconnected: 0, ops.Uninitialized: 0, ops.Unregistered: 0}, p.Statuses)
		assert.Equal(t, "stable", doc.Meta.APIStatus)
		require.Len(t, doc.Health.Bots, 3)
		b := doc.Health.Bots["bot-2"]
		assert.Equal(t, ops.Connected, b.GatewayStatus)
		assert.Equal(t, "watching", b.Phase)
		assert.True(t, b.Available)
		assert.True(t, b.LoggedIn)
		assert.Equal(t, time.Now().UTC(), b.Since, "available since the login, now in virtual time")
		assert.Empty(t, b.Reason)
		assert.Zero(t, b.ResetAttempt)
	})
}

// Every bot is dead: the heartbeat fails them all and the pool is down.
// /readyz says 503 and why; /v1/health says how each bot is and why.
func TestEveryBotDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 3, true)
		h := ops.Handler(f.pool)
		start := time.Now()
		for _, b := range f.bots {
			b.Kill()
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		for id, b := range health(t, h).Health.Bots {
			assert.Regexp(t, `^no sign of life for 2m0s after \d dings$`, b.Reason, "%s, as the heartbeat failed it", id)
		}
		time.Sleep(time.Minute)
		synctest.Wait()

		code, body := get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "not ready: 0 of 3 bots available, 1 needed\n", body)

		doc := health(t, h)
		p := doc.Health.Pool
		assert.Equal(t, ops.PoolDown, p.Status)
		assert.False(t, p.Ready)
		assert.True(t, p.Down)
		assert.Zero(t, p.Available)
		assert.Zero(t, p.Statuses[ops.Connected])
		assert.Equal(t, 3, p.Statuses[ops.Disconnected]+p.Statuses[ops.Connecting])
		for id, b := range doc.Health.Bots {
			assert.Contains(t, []ops.Status{ops.Disconnected, ops.Connecting}, b.GatewayStatus, id)
			assert.Equal(t, "failed", b.Phase, id)
			assert.False(t, b.Available, id)
			assert.NotEmpty(t, b.Reason, id) // a reset's Stop makes it "logout: stopped"
			assert.Equal(t, start.Add(2*time.Minute).UTC(), b.Since, "%s: unavailable since the heartbeat failed it", id)
			assert.Equal(t, b.Since, b.FailedAt, id)
			assert.Equal(t, start.UTC(), b.LastSeen, id)
			assert.Positive(t, b.ResetAttempt, "%s: reset with backoff", id)
		}
	})
}

// stoppable is a mock bot whose Stop waits until released: its pool stays
// stopping until then.
type stoppable struct {
	*mock.Bot
	release chan struct{}
}

func (s stoppable) Stop(ctx context.Context) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Bot.Stop(ctx)
}

// A pool that is stopping is not ready, whatever its bots; the process is
// still alive.
func TestStoppingPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		pool, err := hawechaty.New()
		require.NoError(t, err)
		b1, err := world.AddBot("bot-1")
		require.NoError(t, err)
		b2, err := world.AddBot("bot-2")
		require.NoError(t, err)
		release := make(chan struct{})
		require.NoError(t, pool.Add(t.Context(), b1))
		require.NoError(t, pool.Add(t.Context(), stoppable{Bot: b2, release: release}))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		h := ops.Handler(pool, ops.WithMinAvailable(2))
		code, _ := get(t, h, "/readyz")
		require.Equal(t, http.StatusOK, code)

		stopped := make(chan error)
		go func() { stopped <- pool.Stop(context.Background()) }()
		synctest.Wait() // Stop waits for bot-2's puppet

		code, body := get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "not ready: the pool is stopping\n", body)
		code, _ = get(t, h, "/healthz")
		assert.Equal(t, http.StatusOK, code)
		doc := health(t, h)
		assert.Equal(t, ops.PoolStopping, doc.Health.Pool.Status)
		assert.True(t, doc.Health.Pool.Stopping)
		assert.False(t, doc.Health.Pool.Ready)
		assert.Equal(t, "stopping", doc.Meta.APIStatus)

		close(release)
		require.NoError(t, <-stopped)
		code, body = get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "not ready: the pool is stopping\n", body, "and stopped")
	})
}

func TestMinAvailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 3, true)
		f.bots[2].Kill()
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		code, body := get(t, ops.Handler(f.pool, ops.WithMinAvailable(3)), "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "not ready: 2 of 3 bots available, 3 needed\n", body)
		code, body = get(t, ops.Handler(f.pool, ops.WithMinAvailable(2)), "/readyz")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ready: 2 of 3 bots available, 2 needed\n", body)
		doc := health(t, ops.Handler(f.pool))
		assert.Equal(t, ops.PoolDegraded, doc.Health.Pool.Status)
		code, _ = get(t, ops.Handler(f.pool, ops.WithMinAvailable(0)), "/readyz")
		assert.Equal(t, http.StatusOK, code, "below 1 counts as 1")
	})
}

// Each status of the mapping, from a live pool.
func TestStatuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		pool, err := hawechaty.New(hawechaty.WithSeed(3), hawechaty.WithSendTimeout(time.Minute))
		require.NoError(t, err)
		defer pool.Stop(context.Background())
		up, _ := world.AddBot("up")
		scan, _ := world.AddBot("scan", mock.WithScan("qr-payload"), mock.WithLoginDelay(time.Hour))
		resetting, _ := world.AddBot("resetting")
		dead, _ := world.AddBot("dead")
		for _, b := range []*mock.Bot{up, scan, resetting, dead} {
			require.NoError(t, pool.Add(t.Context(), b))
		}
		h := ops.Handler(pool)
		for id, b := range health(t, h).Health.Bots {
			assert.Equal(t, ops.Uninitialized, b.GatewayStatus, "%s before Start", id)
			assert.Equal(t, "added", b.Reason, id)
		}
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		resetting.Kill()
		resetting.SlowStart(time.Minute) // its reset's Start hangs on
		dead.Kill()
		dead.FailStart(-1) // its resets fail at once
		time.Sleep(150 * time.Second)
		synctest.Wait()

		bots := health(t, h).Health.Bots
		assert.Equal(t, ops.Connected, bots["up"].GatewayStatus)
		assert.Equal(t, ops.Unregistered, bots["scan"].GatewayStatus)
		assert.Equal(t, "scan: waiting for a QR scan", bots["scan"].Reason)
		assert.Equal(t, ops.Connecting, bots["resetting"].GatewayStatus)
		assert.True(t, bots["resetting"].Resetting)
		assert.Equal(t, 1, bots["resetting"].ResetAttempt)
		assert.Equal(t, ops.Disconnected, bots["dead"].GatewayStatus)
		assert.False(t, bots["dead"].Resetting)
		assert.Greater(t, bots["dead"].ResetAttempt, 1)
		assert.Contains(t, bots["dead"].Reason, "reset failed: ")
		assert.False(t, bots["dead"].NextReset.IsZero(), "the next reset is due")

		// Let the slow reset end before the pool stops: a reset effect that
		// outlives the store sends on the epic's closed output channel
		// (epics/effects.go runner.send; see the ops report).
		resetting.SlowStart(0)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
	})
}

func TestBotStatus(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		b    *reducers.Bot
		want ops.Status
	}{
		{nil, ops.Uninitialized},
		{&reducers.Bot{Reason: "added"}, ops.Uninitialized},
		{&reducers.Bot{Available: true, LoggedIn: true}, ops.Connected},
		{&reducers.Bot{Phase: reducers.Scanning, FailedAt: at}, ops.Unregistered},
		{&reducers.Bot{Phase: reducers.Failed, FailedAt: at, Resetting: true, Reset: 1}, ops.Connecting},
		{&reducers.Bot{Phase: reducers.Failed, FailedAt: at, Reset: 1}, ops.Disconnected},
		{&reducers.Bot{Phase: reducers.Failed}, ops.Disconnected},
		{&reducers.Bot{Phase: reducers.Watching, FailedAt: at, Reason: "logout: bye"}, ops.Disconnected},
		// Available wins over a phase the reducer never pairs with it.
		{&reducers.Bot{Available: true, Phase: reducers.Failed}, ops.Connected},
	} {
		assert.Equal(t, tc.want, ops.BotStatus(tc.b), "%+v", tc.b)
	}
}

// Reasons may carry a puppet's or a platform's text: what looks like a
// credential, and the secrets the application names, never leave.
func TestHealthNeverShowsSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 2, true)
		token := puppet.NewSecret("tok-9f8e7d6c")
		reason := "kicked by https://admin:pa55word@svc.example/v1?access_token=abc123&x=1 (token tok-9f8e7d6c; Authorization: Bearer eyJhbGciOi.payload.sig; password=\"hunter2\")\nnext line"
		require.NoError(t, f.pool.Store().Dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "bot-1", Reason: reason})))
		synctest.Wait()
		require.Equal(t, reason, mustBot(t, f.pool, "bot-1").Reason, "the state holds the text as given")

		h := ops.Handler(f.pool, ops.WithSecrets(token))
		_, body := get(t, h, "/v1/health")
		for _, secret := range []string{"tok-9f8e7d6c", "pa55word", "abc123", "eyJhbGciOi", "hunter2"} {
			assert.NotContains(t, body, secret)
		}
		got := health(t, h).Health.Bots["bot-1"].Reason
		assert.Equal(t, `kicked by https://[REDACTED]@svc.example/v1?access_token=[REDACTED]&x=1 (token [REDACTED]; Authorization: [REDACTED] [REDACTED]; password="[REDACTED]") next line`, got)
		assert.Equal(t, ops.Disconnected, health(t, h).Health.Bots["bot-1"].GatewayStatus)

		long := strings.Repeat("é", 400)
		require.NoError(t, f.pool.Store().Dispatch(actions.BotFailed.New(actions.ReasonPayload{Bot: "bot-2", Reason: long})))
		synctest.Wait()
		got = health(t, h).Health.Bots["bot-2"].Reason
		assert.Equal(t, strings.Repeat("é", 256)+"…", got, "cut at 512 bytes on a rune boundary")
	})
}

func mustBot(t *testing.T, p *hawechaty.Pool, id string) *reducers.Bot {
	t.Helper()
	b, ok := p.State().Bots.Get(id)
	require.True(t, ok, id)
	return b
}

func TestMethodsAndPaths(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 1, false)
		reg := prometheus.NewRegistry()
		h := ops.Handler(f.pool, ops.WithGatherer(reg))
		for _, path := range []string{"/healthz", "/readyz", "/v1/health", "/metrics"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, path)
			assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, path, nil))
			assert.NotEqual(t, http.StatusMethodNotAllowed, rec.Code, path)
		}
		code, _ := get(t, h, "/nope")
		assert.Equal(t, http.StatusNotFound, code)
		code, body := get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code, "a pool not started has no bot available")
		assert.Equal(t, "not ready: 0 of 1 bots available, 1 needed\n", body)

		// /metrics exposes the gatherer given.
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_things_total", Help: "Things."})
		reg.MustRegister(c)
		c.Add(3)
		code, body = get(t, h, "/metrics")
		assert.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "app_things_total 3\n")
	})
}

// A slice's pool tells the handler that it is stopping through WithDone.
func TestWithDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, 1, true)
		done := make(chan struct{})
		h := ops.Handler(stateOnly{f.pool}, ops.WithDone(done))
		code, _ := get(t, h, "/readyz")
		assert.Equal(t, http.StatusOK, code)
		close(done)
		code, _ = get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)

		code, _ = get(t, ops.Handler(stateOnly{f.pool}), "/readyz")
		assert.Equal(t, http.StatusOK, code, "a source that cannot tell is never stopping")
	})
}

// stateOnly hides everything of a pool but its state.
type stateOnly struct{ p *hawechaty.Pool }

func (s stateOnly) State() reducers.Pool { return s.p.State() }
