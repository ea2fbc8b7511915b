package ops

import (
	"errors"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors of the metrics.
var (
	// ErrNoStore: Instrument on a pool without a store of its own (a pool
	// made by hawechaty.NewSlice): use NewMetrics and Watch with the
	// application's store.
	ErrNoStore = errors.New("ops: the pool has no store of its own; use NewMetrics and Watch with the application's store")
	// ErrWatching: Watch on metrics that watch a store already.
	ErrWatching = errors.New("ops: the metrics watch a store already")
	// ErrClosed: Watch on closed metrics.
	ErrClosed = errors.New("ops: metrics closed")
)

// Metrics are a pool's Prometheus metrics. Counters and histograms are
// driven by the store's changes (Watch): each change is an action as the
// store reduced it (stamped with Meta.Time and Meta.Seq) with the state
// it produced, so a metric is what the reducer decided, measured in the
// actions' stamps, never a clock. Gauges are read from the pool's state
// at scrape time. See the package documentation for the list.
//
// Metrics is a prometheus.Collector, registered by NewMetrics: unregister
// it with the registry's Unregister(m).
type Metrics struct {
	src Source
	reg prometheus.Registerer
	buf int
	col *collector
	// extras: epic backlog, DevTools frames, events dropped
	extras *extras

	actionsTotal *prometheus.CounterVec   // type
	sends        *prometheus.CounterVec   // outcome
	attempts     *prometheus.CounterVec   // bot, outcome
	failovers    prometheus.Counter       //
	sendDuration *prometheus.HistogramVec // outcome
	failures     *prometheus.CounterVec   // bot, cause
	recoveries   *prometheus.CounterVec   // bot
	detection    *prometheus.HistogramVec // cause
	resets       *prometheus.CounterVec   // bot, result
	dings        *prometheus.CounterVec   // bot, result
	dongs        *prometheus.CounterVec   // bot
	inbound      *prometheus.CounterVec   // result
	poolFailures prometheus.Counter       //

	mu      sync.Mutex
	dropped func() uint64 // the subscription's drops; nil before Watch
	backlog func() int    // the watched store's EpicBacklog; nil before Watch
	unsub   func()
	done    chan struct{} // closed when the watching goroutine returns
	closed  bool

	// What the watching goroutine knows; only it touches these.
	prev  reducers.Pool   // the state after change seq
	seq   uint64          //
	known bool            // prev and seq hold
	wasUp map[string]bool // bots seen available, for recoveries
}

// Label values.
var (
	sendOutcomes   = []actions.Outcome{actions.Delivered, actions.NotSent, actions.Unknown, actions.Permanent, actions.NoBot, actions.Canceled, actions.Abandoned, actions.Unreachable, actions.RateLimited}
	inboundResults = []string{"accepted", "duplicate", "own", "ignored"}
)

// Causes of a bot's failure (label cause), from the action that took it
// out of rotation.
const (
	causeSilence  = "silence"  // bot/DUE: no sign of life for FailAfter
	causeSends    = "sends"    // send/RESULT: a run of failed sends
	causeLogout   = "logout"   // bot/LOGOUT
	causeScan     = "scan"     // bot/SCAN: the platform wants a QR scan
	causeOperator = "operator" // bot/FAILED dispatched by the application
	causeOther    = "other"
)

// Buckets of the histograms, in seconds.
var (
	sendBuckets      = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	detectionBuckets = []float64{1, 5, 10, 15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 600, 1800}
)

// NewMetrics makes the metrics of the pool p and registers them (on
// WithRegisterer's registry, default prometheus.DefaultRegisterer). The
// gauges read p's state at scrape time; the others count nothing until
// Watch feeds them a store's changes.
func NewMetrics(p Source, opts ...MetricsOption) (*Metrics, error) {
	if p == nil {
		return nil, errors.New("ops: NewMetrics(nil)")
	}
	cfg := metricsConfig{reg: prometheus.DefaultRegisterer, buffer: 4096}
	for _, o := range opts {
		if o != nil {
			o.applyMetrics(&cfg)
		}
	}
	if cfg.reg == nil {
		return nil, errors.New("ops: WithRegisterer(nil)")
	}
	if cfg.buffer <= 0 {
		return nil, errors.New("ops: WithBuffer needs a positive size")
	}
	m := &Metrics{
		src: p, reg: cfg.reg, buf: cfg.buffer, wasUp: map[string]bool{},
		actionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_actions_total",
			Help: "Actions reduced by the pool's store, by type (types not defined with actions.Define count as \"unregistered\").",
		}, []string{"type"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_sends_total",
			Help: "Sends that ended, by outcome (delivered, unknown, permanent, no_bot, canceled, abandoned).",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_send_attempts_total",
			Help: "Send attempts that ended, by bot and outcome (delivered, not_sent, unknown, permanent).",
		}, []string{"bot", "outcome"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawechaty_send_failovers_total",
			Help: "Send attempts after a send's first: a send certainly not sent, retried on another bot.",
		}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hawechaty_send_duration_seconds",
			Help:    "Time from a send's send/REQUESTED to the action that ended it, by outcome, in the actions' stamps.",
			Buckets: sendBuckets,
		}, []string{"outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_bot_failures_total",
			Help: "Bots taken out of rotation, by bot and cause (silence, sends, logout, scan, operator, other).",
		}, []string{"bot", "cause"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_bot_recoveries_total",
			Help: "Bots back in rotation after they were out (a login or a dong), by bot; a bot's first login is not counted.",
		}, []string{"bot"}),
		detection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hawechaty_bot_detection_delay_seconds",
			Help:    "Time from a bot's last sign of life to its leaving rotation, by cause, in the actions' stamps.",
			Buckets: detectionBuckets,
		}, []string{"cause"}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_bot_resets_total",
			Help: "Resets (puppet Stop, then Start) of failed bots that ended, by bot and result (ok: both returned nil in time; error).",
		}, []string{"bot", "result"}),
		dings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_bot_dings_total",
			Help: "Heartbeat dings, by bot and result (sent, error).",
		}, []string{"bot", "result"}),
		dongs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_bot_dongs_total",
			Help: "Heartbeat dongs received, by bot.",
		}, []string{"bot"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawechaty_inbound_messages_total",
			Help: "Inbound messages seen by a bot, by result (accepted: new, for the application; duplicate: seen through another bot; own: sent by a bot of the pool; ignored: a removed bot's).",
		}, []string{"result"}),
		poolFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawechaty_pool_failures_total",
			Help: "Times the last available bot left rotation (pool/FAILED).",
		}),
	}
	for _, o := range sendOutcomes {
		m.sends.WithLabelValues(outcomeLabel(o))
	}
	for _, r := range inboundResults {
		m.inbound.WithLabelValues(r)
	}
	x, err := newExtras(p, cfg)
	if err != nil {
		return nil, err
	}
	m.extras = x
	m.col = newCollector(m)
	if err := m.reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

// StoreSource is a pool with a store of its own: *hawechaty.Pool made by
// hawechaty.New.
type StoreSource interface {
	Source
	Store() *store.Store[reducers.Pool]
}

// Instrument makes the metrics of a pool made by hawechaty.New and
// watches its store: NewMetrics, then Watch. Call it before the pool
// starts to count from its first action. Close stops it; it also stops
// when the pool does.
func Instrument(p StoreSource, opts ...MetricsOption) (*Metrics, error) {
	if p == nil {
		return nil, errors.New("ops: Instrument(nil)")
	}
	st := p.Store()
	if st == nil {
		return nil, ErrNoStore
	}
	m, err := NewMetrics(p, opts...)
	if err != nil {
		return nil, err
	}
	if err := Watch(m, st, func(s reducers.Pool) reducers.Pool { return s }); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Watch feeds m with the changes of st, a store that holds the pool where
// get says (the lens given to hawechaty.NewSlice), until st stops or m is
// closed. It subscribes with WithBuffer's capacity: the store never waits
// for the metrics, and a change they could not take in time is dropped
// and counted in hawechaty_metrics_changes_dropped_total (a send that
// ended in a dropped change, and the change after it, are not counted).
//
// Metrics count what happens after Watch; a store may be watched before
// or after it starts.
func Watch[S any](m *Metrics, st *store.Store[S], get func(S) reducers.Pool) error {
	if m == nil || st == nil || get == nil {
		return errors.New("ops: Watch with a nil argument")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return ErrClosed
	case m.done != nil:
		return ErrWatching
	}
	sub := st.Subscribe(m.buf)
	// The state the first change applies to: a state and a Seq read with
	// no change in between (the store stores both under its lock).
	m.known = false
	for range 100 {
		q := st.Seq()
		s := get(st.State())
		if st.Seq() == q {
			m.prev, m.seq, m.known = s, q, true
			break
		}
	}
	if m.known {
		for id, b := range m.prev.Bots.All() {
			if b.Available {
				m.wasUp[id] = true
			}
		}
	}
	m.dropped, m.unsub, m.backlog = sub.Dropped, sub.Close, st.EpicBacklog
	done := make(chan struct{})
	m.done = done
	go func() {
		defer close(done)
		for c := range sub.C() {
			m.observe(c.Action, get(c.State))
		}
	}()
	return nil
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { m.col.Describe(ch) }

// Collect implements prometheus.Collector: the counters and histograms as
// counted, and the gauges read from the pool's state now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) { m.col.Collect(ch) }

// Close stops watching and waits for the last change taken to be
// counted. The metrics stay registered, with their last values, and the
// gauges go on reading the pool's state. It is safe to call twice.
func (m *Metrics) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	unsub, done := m.unsub, m.done
	m.mu.Unlock()
	if unsub != nil {
		unsub()
		<-done
	}
}

// observe counts one change: a as reduced, and the state s it produced.
func (m *Metrics) observe(a actions.Action, s reducers.Pool) {
	seq := a.Meta.Seq
	m.count(a, s)
	if m.known && seq <= m.seq {
		return // in the state Watch started from
	}
	if m.known && seq == m.seq+1 && a.Type != actions.Replaced.Type() {
		m.sendEnd(a, m.prev, s)
	}
	m.prev, m.seq, m.known = s, seq, true
}

// count records what a and the state it produced tell alone: the
// reducer marks its decisions with the deciding action's Seq (FlipBy,
// DownBy, RoutedBy, the Seq an inbound message was accepted under).
func (m *Metrics) count(a actions.Action, s reducers.Pool) {
	seq := a.Meta.Seq
	typ := a.Type
	if !actions.Known(typ) {
		typ = "unregistered"
	}
	m.actionsTotal.WithLabelValues(typ).Inc()
	switch p := a.Payload.(type) {
	case actions.DingPayload:
		if actions.Ding.Is(a) && s.Bots.Has(p.Bot) {
			m.dings.WithLabelValues(p.Bot, result(p.Error, "sent")).Inc()
		}
	case actions.BotPayload:
		switch {
		case actions.Dong.Is(a) && s.Bots.Has(p.Bot):
			m.dongs.WithLabelValues(p.Bot).Inc()
		case actions.BotRemoved.Is(a):
			m.forget(p.Bot)
		}
	case actions.ResetPayload:
		if actions.ResetDone.Is(a) && s.Bots.Has(p.Bot) {
			m.resets.WithLabelValues(p.Bot, result(p.Error, "ok")).Inc()
		}
	case actions.SendResultPayload:
		if actions.SendResult.Is(a) && s.Bots.Has(p.Bot) && p.Outcome.Done() {
			m.attempts.WithLabelValues(p.Bot, outcomeLabel(p.Outcome)).Inc()
		}
	case actions.MessagePayload:
		if actions.Message.Is(a) {
			m.inbound.WithLabelValues(inboundResult(p, seq, s)).Inc()
		}
	}
	if bot := actions.BotOf(a); bot != "" {
		if b, ok := s.Bots.Get(bot); ok && b.FlipBy == seq {
			m.flip(a, bot, b)
		}
	}
	if s.DownBy == seq && s.Down {
		m.poolFailures.Inc()
	}
	if id := actions.SendOf(a); id != "" {
		if sd, ok := s.Sends.Get(id); ok && sd.RoutedBy == seq && sd.Attempt > 1 {
			m.failovers.Inc()
		}
	}
}

// flip records bot b's availability flipped by a.
func (m *Metrics) flip(a actions.Action, bot string, b *reducers.Bot) {
	if b.Available {
		if m.wasUp[bot] {
			m.recoveries.WithLabelValues(bot).Inc()
		}
		m.wasUp[bot] = true
		return
	}
	m.wasUp[bot] = true // it was available until a
	cause := failureCause(a.Type)
	m.failures.WithLabelValues(bot, cause).Inc()
	if !b.FailedAt.IsZero() && !b.LastSeen.IsZero() {
		m.detection.WithLabelValues(cause).Observe(max(b.FailedAt.Sub(b.LastSeen), 0).Seconds())
	}
}

// sendEnd records a send that a ended: prev is the state before a.
func (m *Metrics) sendEnd(a actions.Action, prev, s reducers.Pool) {
	id := actions.SendOf(a)
	if id == "" {
		return
	}
	if e := s.Ended; e != nil && e != prev.Ended && e.ID == id {
		// Ended and forgotten in one action (SendPayload.Collect).
		m.ended(e.Outcome, e.Since, a.Meta.Time)
		return
	}
	old, had := prev.Sends.Get(id)
	if had && old.Outcome.Done() {
		return
	}
	if sd, ok := s.Sends.Get(id); ok {
		if sd.Outcome.Done() {
			m.ended(sd.Outcome, sd.Since, a.Meta.Time)
		}
		return
	}
	if !had {
		return
	}
	// The reducer forgot the send in the action that ended it: an orphan
	// (its caller stopped waiting) ends so.
	switch p := a.Payload.(type) {
	case actions.SendResultPayload:
		if old.Orphan && p.Attempt == old.Attempt && p.Bot == old.Bot {
			m.ended(orphanOutcome(p.Outcome), old.Since, a.Meta.Time)
		}
	case actions.SendIDPayload:
		if actions.SendCollected.Is(a) && old.Waiting {
			m.ended(actions.Canceled, old.Since, a.Meta.Time)
		}
	}
}

func (m *Metrics) ended(o actions.Outcome, since, at time.Time) {
	l := outcomeLabel(o)
	m.sends.WithLabelValues(l).Inc()
	if !since.IsZero() && !at.IsZero() {
		m.sendDuration.WithLabelValues(l).Observe(max(at.Sub(since), 0).Seconds())
	}
}

// forget deletes a removed bot's series, so that the label values stay
// bounded by the bots in the pool.
func (m *Metrics) forget(bot string) {
	l := prometheus.Labels{"bot": bot}
	for _, v := range []*prometheus.CounterVec{m.attempts, m.failures, m.recoveries, m.resets, m.dings, m.dongs} {
		v.DeletePartialMatch(l)
	}
	delete(m.wasUp, bot)
}

// orphanOutcome is how the reducer ends the send of a caller that stopped
// waiting, from its attempt's outcome (see reducers: result).
func orphanOutcome(o actions.Outcome) actions.Outcome {
	switch o {
	case actions.Delivered, actions.Permanent:
		return o
	case actions.NotSent, actions.Unreachable:
		return actions.Canceled
	}
	return actions.Abandoned
}

func inboundResult(p actions.MessagePayload, seq uint64, s reducers.Pool) string {
	switch {
	case !s.Bots.Has(p.Bot):
		return "ignored"
	case s.AcceptedBy(reducers.SeenKey(p.MessageID, seq)) == seq:
		return "accepted"
	case s.Selves.Has(p.From):
		return "own"
	}
	return "duplicate"
}

func failureCause(typ string) string {
	switch typ {
	case actions.Due.Type():
		return causeSilence
	case actions.SendResult.Type():
		return causeSends
	case actions.Logout.Type():
		return causeLogout
	case actions.Scan.Type():
		return causeScan
	case actions.BotFailed.Type():
		return causeOperator
	}
	return causeOther
}

func result(err, ok string) string {
	if err != "" {
		return "error"
	}
	return ok
}

// outcomeLabel is an outcome's label value: its name in snake case.
func outcomeLabel(o actions.Outcome) string {
	switch o {
	case actions.Delivered:
		return "delivered"
	case actions.NotSent:
		return "not_sent"
	case actions.Unknown:
		return "unknown"
	case actions.Permanent:
		return "permanent"
	case actions.NoBot:
		return "no_bot"
	case actions.Canceled:
		return "canceled"
	case actions.Abandoned:
		return "abandoned"
	case actions.Unreachable:
		return "unreachable"
	case actions.RateLimited:
		return "rate_limited"
	case actions.Pending:
		return "pending"
	}
	return "invalid"
}

// collector exposes the metrics, and the gauges read from the pool's
// state at scrape time.
type collector struct {
	m            *Metrics
	vecs         []prometheus.Collector
	bots         *prometheus.Desc
	botAvailable *prometheus.Desc
	botReset     *prometheus.Desc
	poolDown     *prometheus.Desc
	inFlight     *prometheus.Desc
	waiting      *prometheus.Desc
	dropped      *prometheus.Desc
}

func newCollector(m *Metrics) *collector {
	return &collector{
		m: m,
		vecs: []prometheus.Collector{m.actionsTotal, m.sends, m.attempts, m.failovers, m.sendDuration,
			m.failures, m.recoveries, m.detection, m.resets, m.dings, m.dongs, m.inbound, m.poolFailures},
		bots: prometheus.NewDesc("hawechaty_bots",
			"Bots in the pool by status (connected, connecting, disconnected, uninitialized, unregistered; see ops.BotStatus).",
			[]string{"status"}, nil),
		botAvailable: prometheus.NewDesc("hawechaty_bot_available",
			"1 when the bot is available (in rotation), else 0.", []string{"bot"}, nil),
		botReset: prometheus.NewDesc("hawechaty_bot_reset_attempt",
			"Reset attempts since the bot failed (0 for a bot that has not failed).", []string{"bot"}, nil),
		poolDown: prometheus.NewDesc("hawechaty_pool_down",
			"1 after the last available bot failed, until one recovers, else 0.", nil, nil),
		inFlight: prometheus.NewDesc("hawechaty_sends_in_flight",
			"Sends that have not ended.", nil, nil),
		waiting: prometheus.NewDesc("hawechaty_sends_waiting",
			"Sends waiting for a bot (WithWaitForBot).", nil, nil),
		dropped: prometheus.NewDesc("hawechaty_metrics_changes_dropped_total",
			"Store changes the metrics could not take in time (see ops.WithBuffer); counts may miss what they held.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vecs {
		v.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{c.bots, c.botAvailable, c.botReset, c.poolDown, c.inFlight, c.waiting, c.dropped} {
		ch <- d
	}
	c.m.extras.describe(ch)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.vecs {
		v.Collect(ch)
	}
	s := c.m.src.State()
	counts := make(map[Status]int, len(Statuses))
	for id, b := range s.Bots.All() {
		counts[BotStatus(b)]++
		ch <- prometheus.MustNewConstMetric(c.botAvailable, prometheus.GaugeValue, boolValue(b.Available), id)
		ch <- prometheus.MustNewConstMetric(c.botReset, prometheus.GaugeValue, float64(b.Reset), id)
	}
	for _, st := range Statuses {
		ch <- prometheus.MustNewConstMetric(c.bots, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.poolDown, prometheus.GaugeValue, boolValue(s.Down))
	inFlight := 0
	for _, sd := range s.Sends.All() {
		if !sd.Outcome.Done() {
			inFlight++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(inFlight))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(s.Queue.Len()))
	c.m.mu.Lock()
	dropped, backlog := c.m.dropped, c.m.backlog
	c.m.mu.Unlock()
	c.m.extras.collect(ch, backlog)
	var n uint64
	if dropped != nil {
		n = dropped()
	}
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(n))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
