// Command world serves a world of bot accounts over the Wechaty
// puppet-service protocol on 127.0.0.1 for the cluster's integration
// suite (package world), its records as JSON over HTTP (GET /status),
// and posts alice's messages to the room of every account (POST
// /post?text=…, answering the message ID). It prints
// one line, {"grpc": "127.0.0.1:P", "http": "127.0.0.1:Q"}, when it
// listens, and exits when its standard input closes (the suite ended or
// died).
//
//	world -accounts 6
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/hawechaty/hawechaty/cluster/internal/world"
)

func main() {
	n := flag.Int("accounts", 6, "accounts acct-0 … acct-<n-1>")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "world:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	if n < 1 || n > 1000 {
		return fmt.Errorf("-accounts %d: want 1 to 1000", n)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acct-%d", i)
	}
	w := world.New(names...)
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(w.Status())
	})
	mux.HandleFunc("POST /post", func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("copies") { // an ID per account
			_, _ = io.WriteString(rw, w.PostCopies(r.URL.Query().Get("text")))
			return
		}
		_, _ = io.WriteString(rw, w.Post(r.URL.Query().Get("text")))
	})
	hs := &http.Server{Handler: mux}
	go func() { <-ctx.Done(); _ = hs.Close() }()
	go func() { _ = hs.Serve(hl) }()
	line, _ := json.Marshal(map[string]string{"grpc": gl.Addr().String(), "http": hl.Addr().String()})
	fmt.Println(string(line))
	return w.Serve(ctx, gl)
}
