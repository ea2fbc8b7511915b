package devtools_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/store"
)

var exampleAdd = actions.Define[int]("devtools_example/ADD")

// A monitor connects straight to the store, with no relay: here a few
// lines of Go stand in for the Redux DevTools app.
func ExampleNewEndpoint() {
	type state struct {
		Count int    `json:"count"`
		Token string `json:"token"`
	}
	st, err := store.New(func(s state, a actions.Action) state {
		if n, ok := exampleAdd.Match(a); ok {
			s.Count += n
		}
		return s
	}, state{Token: "never leaves the process"})
	if err != nil {
		panic(err)
	}
	defer st.Stop()
	e, err := devtools.NewEndpoint(st, devtools.WithName("example pool"))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	srv := httptest.NewServer(e) // 127.0.0.1; or e.ListenAndServe(ctx, "")
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socketcluster/", nil)
	if err != nil {
		panic(err)
	}
	defer ws.Close()
	for _, f := range []string{
		`{"event":"#handshake","data":{"authToken":null},"cid":1}`,
		`{"event":"login","data":{},"cid":2}`,
		`{"event":"#subscribe","data":{"channel":"log"},"cid":3}`,
	} {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(f))
	}
	// read prints what the monitor gets until an app message of type until.
	read := func(until string) {
		for {
			var p struct {
				Rid  int             `json:"rid"`
				Data json.RawMessage `json:"data"`
			}
			var pub struct {
				Data struct {
					Type    string `json:"type"`
					Name    string `json:"name"`
					Payload string `json:"payload"`
				} `json:"data"`
			}
			_, b, err := ws.ReadMessage()
			if err != nil || json.Unmarshal(b, &p) != nil {
				fmt.Println("read:", err)
				return
			}
			if p.Rid != 0 {
				fmt.Println("reply", p.Rid, string(p.Data))
				continue
			}
			_ = json.Unmarshal(p.Data, &pub)
			m := pub.Data
			fmt.Println(strings.TrimSpace(m.Type + " " + m.Name + " " + m.Payload))
			if m.Type == until {
				return
			}
		}
	}
	read("INIT")
	_ = st.Dispatch(exampleAdd.New(5))
	read("ACTION")
	// Output:
	// reply 1 {"id":"hawechaty-pool-1-m1","isAuthenticated":false,"pingTimeout":30000}
	// reply 2 "log"
	// reply 3 null
	// START example pool
	// INIT example pool {"count":0,"token":"[REDACTED]"}
	// ACTION example pool {"count":5,"token":"[REDACTED]"}
}

func ExampleRedactSecrets() {
	out, err := devtools.RedactSecrets([]byte(`{"bots":[{"name":"b1","puppetToken":"abc"}],"password":"p"}`))
	fmt.Println(string(out), err)
	// Output:
	// {"bots":[{"name":"b1","puppetToken":"[REDACTED]"}],"password":"[REDACTED]"} <nil>
}
