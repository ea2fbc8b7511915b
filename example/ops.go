package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/ops"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// opsAddr is the -http flag: where the demo serves the pool's operations
// endpoints, or "" for nowhere.
var opsAddr string

// serveOps serves ops.Handler on addr, with the pool's metrics (and the
// Go runtime's) on a registry of its own, until stop is called. Call it
// before the pool starts, so that the metrics count from the start.
// opts add to the metrics' options (ops.WithDevTools).
func serveOps(out io.Writer, pool *hawechaty.Pool, addr string, opts ...ops.MetricsOption) (bound string, stop func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := ops.Instrument(pool, append([]ops.MetricsOption{ops.WithRegisterer(reg)}, opts...)...)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		m.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: ops.Handler(pool, ops.WithGatherer(reg)), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // ends with http.ErrServerClosed
	}()
	bound = l.Addr().String()
	fmt.Fprintf(out, "operations on http://%s: /healthz /readyz /v1/health /metrics\n", bound)
	return bound, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		m.Close()
	}, nil
}
