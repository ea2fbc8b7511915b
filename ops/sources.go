package ops

import (
	"errors"

	"github.com/hawechaty/hawechaty/devtools"
	"github.com/prometheus/client_golang/prometheus"
)

// DevTools is what the metrics read of a Redux DevTools connection:
// *devtools.Client and *devtools.Endpoint.
type DevTools interface {
	Stats() devtools.Stats
}

// WithDevTools adds the frames the DevTools connections d sent and
// dropped to the metrics (hawechaty_devtools_frames_sent_total and
// hawechaty_devtools_frames_dropped_total, summed over d), read from
// their Stats at scrape time.
func WithDevTools(d ...DevTools) MetricsOption {
	return metricsOptionFunc(func(c *metricsConfig) { c.devtools = append(c.devtools, d...) })
}

// eventSource is a pool that counts the events its Events channels
// dropped: *hawechaty.Pool.
type eventSource interface {
	EventsDropped() uint64
}

// extras are the metrics read at scrape time from beside the state: the
// store's epic backlog (once watched), DevTools and the events API.
type extras struct {
	devtools []DevTools

	backlog      *prometheus.Desc
	framesSent   *prometheus.Desc
	framesDrop   *prometheus.Desc
	eventsDrop   *prometheus.Desc
	eventsSource eventSource // nil when the source counts none
}

func newExtras(src Source, cfg metricsConfig) (*extras, error) {
	for _, d := range cfg.devtools {
		if d == nil {
			return nil, errors.New("ops: WithDevTools(nil)")
		}
	}
	e := &extras{
		devtools: cfg.devtools,
		backlog: prometheus.NewDesc("hawechaty_epic_queue_length",
			"Actions handed to the store's epics that they have not taken yet (store.EpicBacklog), summed over epics.", nil, nil),
		framesSent: prometheus.NewDesc("hawechaty_devtools_frames_sent_total",
			"Frames (START, INIT, ACTION messages) sent to Redux DevTools, summed over the connections given to ops.WithDevTools.", nil, nil),
		framesDrop: prometheus.NewDesc("hawechaty_devtools_frames_dropped_total",
			"Store changes never sent to Redux DevTools because the network was slow, summed over the connections given to ops.WithDevTools.", nil, nil),
		eventsDrop: prometheus.NewDesc("hawechaty_events_dropped_total",
			"Events the pool's Events channels dropped because their readers were slow (hawechaty.Pool.EventsDropped).", nil, nil),
	}
	e.eventsSource, _ = src.(eventSource)
	return e, nil
}

func (e *extras) describe(ch chan<- *prometheus.Desc) {
	ch <- e.backlog
	if len(e.devtools) > 0 {
		ch <- e.framesSent
		ch <- e.framesDrop
	}
	if e.eventsSource != nil {
		ch <- e.eventsDrop
	}
}

// collect sends what can be read now; backlog is nil before Watch.
func (e *extras) collect(ch chan<- prometheus.Metric, backlog func() int) {
	if backlog != nil {
		ch <- prometheus.MustNewConstMetric(e.backlog, prometheus.GaugeValue, float64(backlog()))
	}
	if len(e.devtools) > 0 {
		var sent, dropped uint64
		for _, d := range e.devtools {
			s := d.Stats()
			sent += s.Sent
			dropped += s.Dropped
		}
		ch <- prometheus.MustNewConstMetric(e.framesSent, prometheus.CounterValue, float64(sent))
		ch <- prometheus.MustNewConstMetric(e.framesDrop, prometheus.CounterValue, float64(dropped))
	}
	if e.eventsSource != nil {
		ch <- prometheus.MustNewConstMetric(e.eventsDrop, prometheus.CounterValue, float64(e.eventsSource.EventsDropped()))
	}
}
