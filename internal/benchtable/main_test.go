package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseAndPrint(t *testing.T) {
	in := `goos: linux
pkg: github.com/hawechaty/hawechaty/store
BenchmarkDispatchW1/bots=100-2   	 2177971	       564.3 ns/op	     573 B/op	       5 allocs/op
BenchmarkDispatchW1Epics/bots=100-2    	  444198	      3090 ns/op	    323648 actions/s	    1294 B/op	       8 allocs/op
PASS
`
	rows, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	var b bytes.Buffer
	print(&b, rows)
	out := b.String()
	for _, want := range []string{"BenchmarkDispatchW1/bots=100-2", "564.3", "323648 actions/s", "store"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
