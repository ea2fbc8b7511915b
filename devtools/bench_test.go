package devtools

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// benchState is a pool-like state: 100 bots, a cursor.
type benchState struct {
	Bots   map[string]benchBot `json:"bots"`
	Cursor int                 `json:"cursor"`
}

type benchBot struct {
	Available bool   `json:"available"`
	Puppet    string `json:"puppet"`
	Token     string `json:"token"`
	Sent      int    `json:"sent"`
}

var benchSend = actions.Define[string]("devtools_bench/SEND")

func benchReduce(s benchState, a actions.Action) benchState {
	if id, ok := benchSend.Match(a); ok {
		s.Cursor++
		bots := make(map[string]benchBot, len(s.Bots)) // copy on write, as a naive pool would
		for k, v := range s.Bots {
			bots[k] = v
		}
		b := bots[id]
		b.Sent++
		bots[id] = b
		s.Bots = bots
	}
	return s
}

// BenchmarkDispatch measures what DevTools adds to Dispatch: nothing
// attached, a client streaming to a relay (a Go one that reads and
// discards), an endpoint with one monitor. Encoding runs on the DevTools
// goroutine, not in Dispatch; what the network cannot take is dropped.
func BenchmarkDispatch(b *testing.B) {
	initial := benchState{Bots: map[string]benchBot{}}
	for i := range 100 {
		initial.Bots[fmt.Sprintf("bot-%d", i)] = benchBot{Available: true, Puppet: "mock", Token: "secret"}
	}
	for _, mode := range []string{"alone", "client", "endpoint"} {
		b.Run(mode, func(b *testing.B) {
			st, err := store.New(benchReduce, initial)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Stop()
			var stats func() Stats
			switch mode {
			case "client":
				f, url := startFakeRelay(b)
				f.discard = true
				c, err := Connect(context.Background(), st, WithURL(url))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				eventually(b, "connected", func() bool { return c.Stats().Connected })
				stats = c.Stats
			case "endpoint":
				e, err := NewEndpoint(st)
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(e)
				defer srv.Close()
				defer e.Close()
				ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socketcluster/", nil)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Close()
				for _, f := range []string{`{"event":"#handshake","data":{},"cid":1}`, `{"event":"login","data":{},"cid":2}`, `{"event":"#subscribe","data":{"channel":"log"},"cid":3}`} {
					if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
						b.Fatal(err)
					}
				}
				// The monitor reads everything until the endpoint closes.
				go func() {
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
					}
				}()
				eventually(b, "subscribed", func() bool { return e.Stats().Sent >= 2 })
				stats = e.Stats
			}
			acts := make([]actions.Action, 100)
			for i := range acts {
				acts[i] = benchSend.New(fmt.Sprintf("bot-%d", i))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := st.Dispatch(acts[i%100]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if stats != nil {
				s := stats()
				b.ReportMetric(float64(s.Dropped)/float64(i), "dropped/op")
				b.ReportMetric(float64(s.Sent)/float64(i), "sent/op")
			}
		})
	}
}

// BenchmarkActionMessage is the work per change on the DevTools goroutine:
// encode the state and the action, redact, and build the message.
func BenchmarkActionMessage(b *testing.B) {
	initial := benchState{Bots: map[string]benchBot{}}
	for i := range 100 {
		initial.Bots[fmt.Sprintf("bot-%d", i)] = benchBot{Available: true, Puppet: "mock", Token: "secret"}
	}
	st, err := store.New(benchReduce, initial)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Stop()
	for _, name := range []string{"redact-default", "redact-none"} {
		b.Run(name, func(b *testing.B) {
			opts := []Option{}
			if name == "redact-none" {
				opts = append(opts, WithRedactor(func(d []byte) ([]byte, error) { return d, nil }))
			}
			cfg, err := newConfig(opts)
			if err != nil {
				b.Fatal(err)
			}
			c := newCore(st, cfg)
			ch := store.Change[benchState]{Action: benchSend.New("bot-1"), State: initial}
			b.ReportAllocs()
			for b.Loop() {
				m, _, err := c.actionMessage("id", ch)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := publishFrame(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
