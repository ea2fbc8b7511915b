package main

import (
	"fmt"
	"io"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
)

// scanAfter is the -scan flag: how long after its start bot-1's QR code
// is scanned, or 0 for a bot-1 that needs none.
var scanAfter = 3 * time.Second

// qrLogin are the mock options of the i-th bot: the first one logs in by
// a QR code that a phone scans after scanAfter.
func qrLogin(i int) []mock.BotOption {
	if i != 0 || scanAfter <= 0 {
		return nil
	}
	return []mock.BotOption{mock.WithQRLogin("hawechaty-mock://login/bot-1", 0), mock.WithLoginDelay(scanAfter)}
}

// showScans prints the QR logins the pool's events tell of: the code to
// scan, drawn in the terminal, and how the login goes on.
func showScans(out io.Writer, st *stats, events <-chan hawechaty.Event) {
	ansi := isTerminal(out)
	scanned := map[string]bool{}
	for ev := range events {
		st.mu.Lock()
		at := since(st.startedAt)
		switch e := ev.(type) {
		case hawechaty.BotScan:
			switch e.Status {
			case actions.ScanWaiting:
				code, err := renderQR(e.QR.Reveal(), ansi)
				if err != nil {
					fmt.Fprintf(out, "%6s  ▣  %s asks for a QR scan; cannot draw it: %v\n", at, e.Bot, err)
					break
				}
				fmt.Fprintf(out, "%6s  ▣  %s asks for a QR scan (a mock: its phone scans it in %v):\n%s", at, e.Bot, scanAfter, code)
			case actions.ScanScanned:
				scanned[e.Bot] = true
				fmt.Fprintf(out, "%6s  ▣  %s: QR code scanned\n", at, e.Bot)
			default:
				fmt.Fprintf(out, "%6s  ▣  %s: QR login %s\n", at, e.Bot, e.Status)
			}
		case hawechaty.BotLogin:
			if scanned[e.Bot] {
				delete(scanned, e.Bot)
				fmt.Fprintf(out, "%6s  ✓  %s logged in by its QR code: in rotation\n", at, e.Bot)
			}
		}
		st.mu.Unlock()
	}
}
