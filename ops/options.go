package ops

import (
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/prometheus/client_golang/prometheus"
)

// Option configures Handler.
type Option interface {
	apply(*handlerConfig)
}

type handlerConfig struct {
	minAvailable int
	gatherer     prometheus.Gatherer
	done         <-chan struct{}
	secrets      []puppet.Secret
}

func (c handlerConfig) gathererOrDefault() prometheus.Gatherer {
	if c.gatherer == nil {
		return prometheus.DefaultGatherer
	}
	return c.gatherer
}

type optionFunc func(*handlerConfig)

func (f optionFunc) apply(c *handlerConfig) { f(c) }

// WithMinAvailable sets how many bots must be available for /readyz to
// answer 200 (default 1; below 1 counts as 1).
func WithMinAvailable(n int) Option {
	return optionFunc(func(c *handlerConfig) { c.minAvailable = max(n, 1) })
}

// WithGatherer sets the registry /metrics exposes (default
// prometheus.DefaultGatherer): the one the Metrics were registered on.
func WithGatherer(g prometheus.Gatherer) Option {
	return optionFunc(func(c *handlerConfig) { c.gatherer = g })
}

// WithDone tells the handler that the pool is stopping when done is
// closed: for a pool made by hawechaty.NewSlice, pass the application
// store's Done().
func WithDone(done <-chan struct{}) Option {
	return optionFunc(func(c *handlerConfig) { c.done = done })
}

// WithSecrets names secrets (the puppets' tokens) that must never appear
// in the health document: any occurrence in a bot's reason is replaced by
// [REDACTED]. Values after credential keys (token=, password:, …), bearer
// credentials and passwords in URLs are redacted without being named.
func WithSecrets(secrets ...puppet.Secret) Option {
	return optionFunc(func(c *handlerConfig) { c.secrets = append(c.secrets, secrets...) })
}

// MetricsOption configures NewMetrics and Instrument.
type MetricsOption interface {
	applyMetrics(*metricsConfig)
}

type metricsConfig struct {
	reg      prometheus.Registerer
	buffer   int
	devtools []DevTools
}

type metricsOptionFunc func(*metricsConfig)

func (f metricsOptionFunc) applyMetrics(c *metricsConfig) { f(c) }

// WithRegisterer sets the registry the metrics are registered on (default
// prometheus.DefaultRegisterer). For several pools in one registry, give
// each its own label, as
// prometheus.WrapRegistererWith(prometheus.Labels{"pool": name}, reg): a
// registry wants one set of label names per metric.
func WithRegisterer(r prometheus.Registerer) MetricsOption {
	return metricsOptionFunc(func(c *metricsConfig) { c.reg = r })
}

// WithBuffer sets how many store changes may wait for the metrics before
// the store drops one (default 4096, about 2.5 MB for a pool in its own
// store; see hawechaty_metrics_changes_dropped_total).
func WithBuffer(n int) MetricsOption {
	return metricsOptionFunc(func(c *metricsConfig) { c.buffer = n })
}
