// Command benchtable runs the repository's benchmarks and prints one table:
// benchmark, time per op, bytes and allocations per op, and any custom
// metric (actions/s). `make bench` runs it.
//
// With -vs NAME, the benchmark NAME (without its -GOMAXPROCS suffix) is
// the baseline, and two columns follow: how many times faster each
// benchmark is than the baseline in ns/op, and in cpu-ns/op when both
// report it. `make bench-say` compares BenchmarkSay with a Node Wechaty
// bot's say this way.
//
// Usage:
//
//	go run ./internal/benchtable [-bench regexp] [-benchtime d] [-count n] [-tags t] [-vs name] [packages]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	bench := flag.String("bench", ".", "benchmarks to run (go test -bench)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	count := flag.Int("count", 1, "go test -count")
	tags := flag.String("tags", "", "go test -tags")
	vs := flag.String("vs", "", "the baseline benchmark: add how many times faster than it each one is")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	args := append([]string{"test", "-run", "^$", "-bench", *bench, "-benchmem",
		"-benchtime", *benchtime, "-count", fmt.Sprint(*count), "-tags", *tags}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	rows, perr := parse(out)
	werr := cmd.Wait()
	print(os.Stdout, rows, *vs)
	if perr != nil || werr != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", perr, werr)
		os.Exit(1)
	}
}

type row struct {
	pkg, name string
	metrics   [][2]string // value, unit, in order
}

// parse reads `go test -bench` output and returns one row per result line.
func parse(r io.Reader) ([]row, error) {
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		rw := row{pkg: pkg, name: f[0]}
		for i := 2; i+1 < len(f); i += 2 {
			rw.metrics = append(rw.metrics, [2]string{f[i], f[i+1]})
		}
		rows = append(rows, rw)
	}
	return rows, sc.Err()
}

// metric returns the row's value in unit, and whether it has one.
func (r row) metric(unit string) (float64, bool) {
	for _, m := range r.metrics {
		if m[1] == unit {
			v, err := strconv.ParseFloat(m[0], 64)
			return v, err == nil && v > 0
		}
	}
	return 0, false
}

// baseline returns the last row of the benchmark named vs (its name
// without the -GOMAXPROCS suffix), if any.
func baseline(rows []row, vs string) (row, bool) {
	for _, r := range slices.Backward(rows) {
		name := r.name
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if name == vs {
			return r, true
		}
	}
	return row{}, false
}

// print writes the table; with vs, the speed-up columns against it.
func print(w io.Writer, rows []row, vs string) {
	base, cmp := baseline(rows, vs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "package\tbenchmark\tns/op\tB/op\tallocs/op\tother\t"
	if cmp {
		head += "faster\tcpu faster\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		cols := map[string]string{}
		var other []string
		for _, m := range r.metrics {
			switch m[1] {
			case "ns/op", "B/op", "allocs/op":
				cols[m[1]] = m[0]
			default:
				other = append(other, m[0]+" "+m[1])
			}
		}
		short := r.pkg[strings.LastIndex(r.pkg, "/")+1:]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t", short, r.name, cols["ns/op"], cols["B/op"], cols["allocs/op"], strings.Join(other, ", "))
		if cmp {
			fmt.Fprintf(tw, "%s\t%s\t", ratio(base, r, "ns/op"), ratio(base, r, "cpu-ns/op"))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// ratio is base's value in unit over r's ("12.3x"), or "" when either
// lacks it.
func ratio(base, r row, unit string) string {
	b, ok1 := base.metric(unit)
	v, ok2 := r.metric(unit)
	if !ok1 || !ok2 {
		return ""
	}
	return fmt.Sprintf("%.1fx", b/v)
}
