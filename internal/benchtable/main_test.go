package main

import (
	"bytes"
	"slices"
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
	print(&b, rows, "")
	out := b.String()
	for _, want := range []string{"BenchmarkDispatchW1/bots=100-2", "564.3", "323648 actions/s", "store"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestVs(t *testing.T) {
	in := `pkg: github.com/hawechaty/hawechaty
BenchmarkNodeWechatySay-2   	       1	     60000 ns/op	     60000 cpu-ns/op	     50000 min-ns/op
BenchmarkSay/bots=2-2       	  200000	      6000 ns/op	     12000 cpu-ns/op	      0.1 sleeps/op	     900 B/op	      12 allocs/op
BenchmarkSay/bots=100-2     	  200000	      7500 ns/op	     1.0 sleeps/op
PASS
`
	rows, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	print(&b, rows, "BenchmarkNodeWechatySay")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), b.String())
	}
	for i, want := range [][]string{ // the last fields of each line
		{"faster", "cpu", "faster"},
		{"1.0x", "1.0x"},
		{"12000", "cpu-ns/op,", "0.1", "sleeps/op", "10.0x", "5.0x"},
		{"1.0", "sleeps/op", "8.0x"},
	} {
		if f := strings.Fields(lines[i]); !slices.Equal(f[len(f)-len(want):], want) {
			t.Errorf("line %d ends %q, want %q:\n%s", i, f, want, b.String())
		}
	}
	b.Reset()
	print(&b, rows, "BenchmarkMissing")
	if strings.Contains(b.String(), "faster") {
		t.Errorf("a missing baseline adds columns:\n%s", b.String())
	}
}
