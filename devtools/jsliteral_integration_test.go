//go:build integration

package devtools_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var updateJSLiteral = flag.Bool("update-jsliteral", false, "rewrite testdata/jsliteral/golden.json with what Node says")

// TestJSLiteralGoldenIsNodes evaluates the literal table with Node again
// (testdata/jsliteral/eval.mjs) and fails if its answers differ from the
// golden file that TestJSLiteralMatchesNode checks the decoder against. It
// needs node on PATH, and fails without it. -update-jsliteral rewrites the
// golden file instead.
func TestJSLiteralGoldenIsNodes(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to check the JavaScript literal table: %v", err)
	}
	dir := filepath.Join("testdata", "jsliteral")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "eval.mjs", "cases.json")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node eval.mjs: %v\n%s", err, stderr.String())
	}
	golden := filepath.Join(dir, "golden.json")
	if *updateJSLiteral {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		gotLines, wantLines := bytes.Split(out, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range max(len(gotLines), len(wantLines)) {
			var g, w []byte
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if !bytes.Equal(g, w) {
				t.Errorf("line %d:\nnode:   %s\ngolden: %s", i+1, g, w)
			}
		}
		t.Fatalf("Node (%s) disagrees with %s; rerun with -update-jsliteral if the table changed", node, golden)
	}
}
