package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/prometheus/client_golang/prometheus"
)

// Mount the handler and the metrics of a pool; here, before it starts.
func ExampleHandler() {
	world := mock.NewWorld()
	defer world.Close()
	pool, _ := hawechaty.New()
	defer pool.Stop(context.Background())
	bot, _ := world.AddBot("bot-1")
	_ = pool.Add(context.Background(), bot)

	reg := prometheus.NewRegistry()
	m, _ := ops.Instrument(pool, ops.WithRegisterer(reg))
	defer m.Close()
	h := ops.Handler(pool, ops.WithGatherer(reg), ops.WithMinAvailable(1))

	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 ok
	// 503 not ready: 0 of 1 bots available, 1 needed
}

func ExampleBotStatus() {
	fmt.Println(ops.BotStatus(&reducers.Bot{Available: true}))
	fmt.Println(ops.BotStatus(&reducers.Bot{Phase: reducers.Scanning}))
	fmt.Println(ops.BotStatus(&reducers.Bot{Phase: reducers.Failed, Resetting: true}))
	// Output:
	// connected
	// unregistered
	// connecting
}
