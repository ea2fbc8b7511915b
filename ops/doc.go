// Package ops gives the people who run a pool what they expect of a
// service: health and readiness probes, a health document in the spirit
// of WhatsApp Business API's /v1/health, and Prometheus metrics.
//
// Everything here reads the pool's state (reducers.Pool) or the store's
// changes; nothing dispatches, and nothing changes what the pool does.
//
// # Usage
//
//	pool, _ := hawechaty.New()
//	reg := prometheus.NewRegistry()
//	m, err := ops.Instrument(pool, ops.WithRegisterer(reg)) // before Start: counts from the first action
//	if err != nil { … }
//	defer m.Close()
//	go http.ListenAndServe("127.0.0.1:9090", ops.Handler(pool, ops.WithGatherer(reg)))
//	pool.Start(ctx)
//
// For a pool mounted in an application's store (hawechaty.NewSlice):
//
//	m, _ := ops.NewMetrics(pool, ops.WithRegisterer(reg))
//	ops.Watch(m, appStore, func(s App) reducers.Pool { return s.Pool })
//	h := ops.Handler(pool, ops.WithGatherer(reg), ops.WithDone(appStore.Done()))
//
// The metrics' loop, on a subscription of the store:
//
//	for change := range store.Subscribe(buffer).C() {
//		count change.Action by type; dings, dongs, resets, attempts from its payload
//		read the decisions the reducer marked with change.Action.Meta.Seq in change.State:
//			a bot flipped (FlipBy): failure by cause with its detection delay, or recovery
//			the pool went down (DownBy), a send failed over (RoutedBy), a message accepted
//		compare with the state before: a send that ended, its outcome and duration
//	}
//
// # Endpoints
//
// See Handler: /healthz, /readyz, /v1/health, /metrics.
//
// # Bot statuses
//
// BotStatus maps the pool's record of a bot to WhatsApp's gateway_status
// words: connected (available), unregistered (waits for a QR scan),
// connecting (failed, a reset under way), uninitialized (added, not yet
// logged in), disconnected (anything else out of rotation).
//
// # Metrics
//
// Gauges, read from the state at scrape time:
//
//	hawechaty_bots{status}                      bots by status
//	hawechaty_bot_available{bot}                1 when the bot is in rotation
//	hawechaty_bot_reset_attempt{bot}            resets since the bot failed
//	hawechaty_pool_down                         1 while every bot is down
//	hawechaty_sends_in_flight                   sends not ended
//	hawechaty_sends_waiting                     sends waiting for a bot
//	hawechaty_epic_queue_length                 actions the epics have not taken (store.EpicBacklog), once watched
//
// Counters read at scrape time from beside the state:
//
//	hawechaty_devtools_frames_sent_total        frames sent to Redux DevTools (WithDevTools)
//	hawechaty_devtools_frames_dropped_total     store changes DevTools never got (WithDevTools)
//	hawechaty_events_dropped_total              events slow readers of Pool.Events lost
//
// Counters and histograms, from the store's changes, timed by the
// actions' stamps (Meta.Time), never by a clock:
//
//	hawechaty_actions_total{type}                      actions reduced
//	hawechaty_sends_total{outcome}                     sends ended
//	hawechaty_send_attempts_total{bot,outcome}         attempts ended (send/RESULT)
//	hawechaty_send_failovers_total                     attempts after a send's first
//	hawechaty_send_duration_seconds{outcome}           send/REQUESTED to the send's end
//	hawechaty_bot_failures_total{bot,cause}            bots out of rotation
//	hawechaty_bot_detection_delay_seconds{cause}       last sign of life to leaving rotation
//	hawechaty_bot_recoveries_total{bot}                bots back in rotation
//	hawechaty_bot_resets_total{bot,result}             resets ended (ok, error)
//	hawechaty_bot_dings_total{bot,result}              dings (sent, error)
//	hawechaty_bot_dongs_total{bot}                     dongs
//	hawechaty_inbound_messages_total{result}           accepted, duplicate, own, ignored
//	hawechaty_pool_failures_total                      pool/FAILED
//	hawechaty_metrics_changes_dropped_total            changes the metrics missed
//
// Labels are bounded: outcomes, causes and results are fixed sets; bot
// labels name the bots in the pool (a removed bot's series are deleted);
// type is an action type defined in code (others count as
// "unregistered"). No message, contact or send ID is a label.
//
// Why a subscription and not middleware: middleware sees an action before
// the store stamps it and cannot read the state it produced (another
// dispatch may be reduced between its next() and its State()), and the
// durations are measured in stamps. The subscription never holds up the
// store; it drops a change when its buffer is full, and the drops are
// counted.
package ops
