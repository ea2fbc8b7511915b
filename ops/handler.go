package ops

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Source is what ops reads of a pool: its state. *hawechaty.Pool
// satisfies it, whether made by New or bound from a Slice.
type Source interface {
	State() reducers.Pool
}

// Handler returns the operations endpoints of the pool p, for an
// application to mount (http.ListenAndServe(addr, ops.Handler(pool)), or
// under a prefix with http.StripPrefix):
//
//	GET /healthz     200 "ok": the process is alive and serving
//	GET /readyz      200 when the pool can send (WithMinAvailable bots
//	                 available, default 1) and is not stopping; 503 otherwise
//	GET /v1/health   the Health document (JSON), always 200
//	GET /metrics     the Prometheus exposition of WithGatherer's registry
//	                 (default prometheus.DefaultGatherer)
//
// HEAD works as GET; other methods get 405. Nothing the handler writes
// carries a secret: reasons are scrubbed (see WithSecrets), and no token,
// message text, contact or message ID is in the document.
//
// The handler knows the pool is stopping from WithDone; without it, from
// p's Done() <-chan struct{} if it has one, else from the Done channel of
// p's Store() *store.Store[reducers.Pool] (what a pool made by
// hawechaty.New has); else it never reports stopping.
func Handler(p Source, opts ...Option) http.Handler {
	cfg := handlerConfig{minAvailable: 1}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	h := &handler{src: p, cfg: cfg, scrub: newScrubber(cfg.secrets), done: cfg.done}
	if h.done == nil {
		h.done = doneOf(p)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", h.healthz)
	mux.HandleFunc("/readyz", h.readyz)
	mux.HandleFunc("/v1/health", h.health)
	mux.Handle("/metrics", promhttp.HandlerFor(cfg.gathererOrDefault(), promhttp.HandlerOpts{}))
	return readOnly(mux)
}

// doneOf finds the channel that tells a pool is stopping.
func doneOf(p Source) <-chan struct{} {
	if d, ok := p.(interface{ Done() <-chan struct{} }); ok {
		return d.Done()
	}
	if s, ok := p.(interface {
		Store() *store.Store[reducers.Pool]
	}); ok {
		if st := s.Store(); st != nil {
			return st.Done()
		}
	}
	return nil
}

// readOnly refuses every method but GET and HEAD.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type handler struct {
	src   Source
	cfg   handlerConfig
	scrub scrubber
	done  <-chan struct{}
}

func (h *handler) stopping() bool {
	if h.done == nil {
		return false
	}
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	text(w, http.StatusOK, "ok\n")
}

func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	s := h.src.State()
	switch {
	case h.stopping():
		text(w, http.StatusServiceUnavailable, "not ready: the pool is stopping\n")
	case s.Available < h.cfg.minAvailable:
		text(w, http.StatusServiceUnavailable, fmt.Sprintf("not ready: %d of %d bots available, %d needed\n", s.Available, s.Bots.Len(), h.cfg.minAvailable))
	default:
		text(w, http.StatusOK, fmt.Sprintf("ready: %d of %d bots available, %d needed\n", s.Available, s.Bots.Len(), h.cfg.minAvailable))
	}
}

func (h *handler) health(w http.ResponseWriter, _ *http.Request) {
	doc := h.document(h.src.State(), h.stopping(), time.Now())
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil { // cannot happen: the document is plain data
		http.Error(w, "ops: cannot encode the health document", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// Health is the /v1/health document, in the spirit of WhatsApp Business
// API's: Health.Bots is keyed by bot, as WhatsApp's health is keyed by
// node, and each bot has a gateway_status.
type Health struct {
	Health HealthBody `json:"health"`
	Meta   HealthMeta `json:"meta"`
}

// HealthBody holds the pool as a whole and each bot.
type HealthBody struct {
	Pool PoolHealth           `json:"pool"`
	Bots map[string]BotHealth `json:"bots"`
}

// PoolHealth is the pool as a whole.
type PoolHealth struct {
	Status       PoolStatus `json:"status"`
	Ready        bool       `json:"ready"` // what /readyz answers
	Stopping     bool       `json:"stopping"`
	Bots         int        `json:"bots"`
	Available    int        `json:"available"`
	MinAvailable int        `json:"min_available"`
	// Down: the last available bot failed and none has recovered since
	// (pool/FAILED was told, pool/RECOVERED not yet).
	Down bool `json:"down"`
	// Statuses counts the bots by status, every status present.
	Statuses      map[Status]int `json:"statuses"`
	SendsInFlight int            `json:"sends_in_flight"`
	SendsWaiting  int            `json:"sends_waiting"` // waiting for a bot (WithWaitForBot)
	Delivered     int            `json:"delivered"`     // sends delivered since the pool's state began
	Failovers     int            `json:"failovers"`     // send attempts after a send's first
	Accepted      int            `json:"accepted"`      // inbound messages accepted as new
}

// BotHealth is one bot.
type BotHealth struct {
	GatewayStatus Status `json:"gateway_status"` // see BotStatus
	Phase         string `json:"phase"`          // the pool's phase: watching, scanning, failed
	Available     bool   `json:"available"`
	LoggedIn      bool   `json:"logged_in"`
	// Since: when the bot last became available or unavailable (for a bot
	// never up, when it was added).
	Since time.Time `json:"since,omitzero"`
	// Reason: why the bot is unavailable, scrubbed of secrets.
	Reason   string    `json:"reason,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"` // last sign of life
	FailedAt time.Time `json:"failed_at,omitzero"`
	Dings    int       `json:"dings"` // dings sent since the last sign of life
	// ResetAttempt counts the resets since the bot failed; Resetting is
	// true while one runs; NextReset is when the next one is due.
	ResetAttempt int       `json:"reset_attempt"`
	Resetting    bool      `json:"resetting"`
	NextReset    time.Time `json:"next_reset,omitzero"`
	Sent         int       `json:"sent"`             // messages delivered
	FailedSends  int       `json:"failed_sends"`     // consecutive failed sends
	Puppet       string    `json:"puppet,omitempty"` // the puppet's kind, as "mock"
	// NoHeartbeatContact: the bot's contacts lack the heartbeat contact,
	// so it is dinged through the puppet protocol only.
	NoHeartbeatContact bool `json:"no_heartbeat_contact,omitempty"`
}

// HealthMeta describes the document.
type HealthMeta struct {
	// APIStatus is "stable" while the pool runs and "stopping" after, as
	// WhatsApp's meta.api_status.
	APIStatus string    `json:"api_status"`
	Time      time.Time `json:"time"` // when the document was made
}

// document builds the Health document of s.
func (h *handler) document(s reducers.Pool, stopping bool, now time.Time) Health {
	doc := Health{
		Health: HealthBody{
			Pool: PoolHealth{
				Status:       poolStatus(s, stopping),
				Ready:        !stopping && s.Available >= h.cfg.minAvailable,
				Stopping:     stopping,
				Bots:         s.Bots.Len(),
				Available:    s.Available,
				MinAvailable: h.cfg.minAvailable,
				Down:         s.Down,
				Statuses:     make(map[Status]int, len(Statuses)),
				SendsWaiting: s.Queue.Len(),
				Delivered:    s.Delivered,
				Failovers:    s.Failovers,
				Accepted:     s.Accepted,
			},
			Bots: make(map[string]BotHealth, s.Bots.Len()),
		},
		Meta: HealthMeta{APIStatus: "stable", Time: now.UTC()},
	}
	if stopping {
		doc.Meta.APIStatus = "stopping"
	}
	for _, st := range Statuses {
		doc.Health.Pool.Statuses[st] = 0
	}
	for _, sd := range s.Sends.All() {
		if !sd.Outcome.Done() {
			doc.Health.Pool.SendsInFlight++
		}
	}
	for id, b := range s.Bots.All() {
		st := BotStatus(b)
		doc.Health.Pool.Statuses[st]++
		sent, _ := s.Sent.Get(id)
		bh := BotHealth{
			GatewayStatus: st,
			Phase:         b.Phase.String(),
			Available:     b.Available,
			LoggedIn:      b.LoggedIn,
			Since:         utc(b.Since),
			LastSeen:      utc(b.LastSeen),
			FailedAt:      utc(b.FailedAt),
			Dings:         b.Dings,
			ResetAttempt:  b.Reset,
			Resetting:     b.Resetting,
			NextReset:     utc(b.ResetAt),
			Sent:          sent,
			FailedSends:   b.Failures,
			Puppet:        h.scrub.scrub(b.Puppet),

			NoHeartbeatContact: s.Unfollowed.Has(id),
		}
		if !b.Available {
			bh.Reason = h.scrub.scrub(b.Reason)
		}
		doc.Health.Bots[id] = bh
	}
	return doc
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
