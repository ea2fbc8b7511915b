package mock

import (
	"errors"
	"fmt"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// ErrNoScan is returned by Bot.ScanQR when no QR code of the bot waits to
// be scanned.
var ErrNoScan = errors.New("mock: no QR code waits to be scanned")

// qrLogin is a bot's QR login (WithQRLogin); its counter is guarded by
// the world's lock.
type qrLogin struct {
	payload string
	refresh time.Duration
	shown   int // codes shown since the bot was added
}

// WithQRLogin makes the bot log in only by a QR scan, as an account that
// a platform wants scanned does: every Start emits EventScan (ScanWaiting)
// with a QR payload, qr followed by "#" and a counter (qr#1, qr#2 …), and
// a new code every refresh while nobody scans it (refresh <= 0: one code
// per Start). The bot stays started and logged out until Bot.ScanQR, or
// until WithLoginDelay's delay has passed (as if someone scanned the code
// then): it emits EventScan ScanScanned, then ScanConfirmed, then
// EventLogin. It takes precedence over WithScan.
func WithQRLogin(qr string, refresh time.Duration) BotOption {
	return botOption(func(c *botConfig) { c.qr = &qrLogin{payload: qr, refresh: refresh} })
}

// ScanQR is a phone scanning the bot's QR code and its user confirming:
// the bot emits EventScan ScanScanned, then ScanConfirmed, then EventLogin.
// It returns ErrNoScan unless the bot was added WithQRLogin and is
// started, logged out (since its Start, or by LogOut) and neither dead
// nor killed; ErrClosed on a closed bot.
func (b *Bot) ScanQR() error {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	switch {
	case b.closed:
		return fmt.Errorf("mock: scan %q: %w", b.id, ErrClosed)
	case !b.waitsForScanLocked():
		return fmt.Errorf("mock: scan %q: %w", b.id, ErrNoScan)
	}
	b.scannedLocked()
	return nil
}

// waitsForScanLocked reports whether a QR code of the bot waits.
func (b *Bot) waitsForScanLocked() bool {
	return b.cfg.qr != nil && !b.closed && b.started && !b.loggedIn && !b.f.dead && !b.f.killed
}

// qrStartLocked shows the first code of a Start and arms the refresh and
// the scan that WithLoginDelay promises; a later Start or Stop (a new
// gen) disarms them.
func (b *Bot) qrStartLocked(gen int) {
	b.showQRLocked(gen)
	if b.cfg.loginDelay > 0 {
		b.w.afterLocked(b.cfg.loginDelay, func() {
			b.w.mu.Lock()
			defer b.w.mu.Unlock()
			if b.gen == gen && b.waitsForScanLocked() {
				b.scannedLocked()
			}
		})
	}
}

// showQRLocked emits a new code, and the next one after the refresh.
func (b *Bot) showQRLocked(gen int) {
	q := b.cfg.qr
	q.shown++
	b.emitLocked(puppet.Event{Kind: puppet.EventScan, Scan: puppet.ScanWaiting, Data: fmt.Sprintf("%s#%d", q.payload, q.shown)})
	if q.refresh <= 0 {
		return
	}
	b.w.afterLocked(q.refresh, func() {
		b.w.mu.Lock()
		defer b.w.mu.Unlock()
		if b.gen == gen && b.waitsForScanLocked() {
			b.showQRLocked(gen)
		}
	})
}

// scannedLocked is the scan, the confirmation and the login.
func (b *Bot) scannedLocked() {
	b.emitLocked(puppet.Event{Kind: puppet.EventScan, Scan: puppet.ScanScanned})
	b.emitLocked(puppet.Event{Kind: puppet.EventScan, Scan: puppet.ScanConfirmed})
	b.loginLocked()
}
