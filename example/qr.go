package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	goqr "github.com/piglig/go-qr"
)

// quietZone is the light margin around a QR code, in modules, that the
// standard asks for and phone scanners need.
const quietZone = 4

// renderQR draws payload as a QR code for a terminal, two rows of modules
// per line of text (the half-block characters ▀ ▄ █), with its quiet
// zone. Light modules are drawn, dark ones left blank. With ansi, every
// line is drawn bright white on black, so that the code scans whatever
// the terminal's colours; without, the terminal's background must be
// dark.
func renderQR(payload string, ansi bool) (string, error) {
	qr, err := goqr.EncodeText(payload, goqr.Medium)
	if err != nil {
		return "", fmt.Errorf("QR code of %d bytes: %w", len(payload), err)
	}
	n := qr.Size() + 2*quietZone
	light := func(x, y int) bool { // Module is false (light) outside the code
		return y < n && !qr.Module(x-quietZone, y-quietZone)
	}
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		if ansi {
			b.WriteString("\x1b[97;40m")
		}
		for x := range n {
			switch top, bottom := light(x, y), light(x, y+1); {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		if ansi {
			b.WriteString("\x1b[0m")
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// isTerminal reports whether w is a terminal, where colours can be set.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
