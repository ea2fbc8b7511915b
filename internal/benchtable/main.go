// Command benchtable runs the repository's benchmarks and prints one table:
// benchmark, time per op, bytes and allocations per op, and any custom
// metric (actions/s). `make bench` runs it.
//
// Usage:
//
//	go run ./internal/benchtable [-bench regexp] [-benchtime d] [-count n] [packages]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
)

func main() {
	bench := flag.String("bench", ".", "benchmarks to run (go test -bench)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	count := flag.Int("count", 1, "go test -count")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	args := append([]string{"test", "-run", "^$", "-bench", *bench, "-benchmem",
		"-benchtime", *benchtime, "-count", fmt.Sprint(*count)}, pkgs...)
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
	print(os.Stdout, rows)
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

func print(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tbenchmark\tns/op\tB/op\tallocs/op\tother\t")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", short, r.name, cols["ns/op"], cols["B/op"], cols["allocs/op"], strings.Join(other, ", "))
	}
	tw.Flush()
}
