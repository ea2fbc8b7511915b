package actions

import (
	"encoding"
	"fmt"
	"log/slog"
)

// ScanStatus is where a QR login stands, as the platform reports it
// (Wechaty's ScanStatus, in the order a login goes through). Its JSON form
// is its String, so DevTools shows words.
type ScanStatus uint8

// Scan statuses.
const (
	// ScanUnknown: the platform did not say.
	ScanUnknown ScanStatus = iota
	// ScanWaiting: a QR code waits to be scanned.
	ScanWaiting
	// ScanScanned: a phone scanned the code; its user has not confirmed.
	ScanScanned
	// ScanConfirmed: the user confirmed on the phone; the login follows.
	ScanConfirmed
	// ScanTimeout: the code expired unscanned; a new one usually follows.
	ScanTimeout
	// ScanCanceled: the user declined on the phone.
	ScanCanceled
)

var scanNames = [...]string{"unknown", "waiting", "scanned", "confirmed", "timeout", "canceled"}

func (s ScanStatus) String() string {
	if int(s) < len(scanNames) {
		return scanNames[s]
	}
	return fmt.Sprintf("scan(%d)", uint8(s))
}

// MarshalText writes the status's name.
func (s ScanStatus) MarshalText() ([]byte, error) {
	if int(s) >= len(scanNames) {
		return nil, fmt.Errorf("actions: invalid scan status %d", uint8(s))
	}
	return []byte(scanNames[s]), nil
}

// UnmarshalText reads a status's name.
func (s *ScanStatus) UnmarshalText(b []byte) error {
	for i, n := range scanNames {
		if n == string(b) {
			*s = ScanStatus(i)
			return nil
		}
	}
	return fmt.Errorf("%w: scan status %q", ErrInvalid, b)
}

// QR is the payload of a QR code a bot asks to have scanned, usually a
// login URL with a one-time token in it: whoever holds it can complete
// the login with a phone of their own. The pool cannot tell a harmless
// payload from such a URL, so it treats every one as a secret, as
// puppet.Secret treats a token: a QR prints as "[REDACTED]" under every
// fmt verb and encodes as "[REDACTED]" with encoding/json,
// encoding.TextMarshaler users and slog, so neither DevTools, logs nor a
// recorded action show it. The value sits behind a pointer, so printers
// that walk unexported fields show an address. Reveal returns it, for
// the application that renders the code (hawechaty.BotScan).
//
// The zero QR is empty. QRs compare with Equal.
type QR struct{ v *string }

// NewQR wraps a QR payload. NewQR("") is the zero QR.
func NewQR(payload string) QR {
	if payload == "" {
		return QR{}
	}
	return QR{v: &payload}
}

// Reveal returns the payload.
func (q QR) Reveal() string {
	if q.v == nil {
		return ""
	}
	return *q.v
}

// IsZero reports whether q is empty.
func (q QR) IsZero() bool { return q.v == nil }

// Equal reports whether q and o hold the same payload.
func (q QR) Equal(o QR) bool { return q.Reveal() == o.Reveal() }

const redacted = "[REDACTED]"

// String implements fmt.Stringer without revealing the payload.
func (q QR) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the payload.
func (q QR) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints "[REDACTED]" (%q
// quotes it).
func (q QR) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(`"` + redacted + `"`))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// LogValue implements slog.LogValuer without revealing the payload.
func (q QR) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText encodes the QR as "[REDACTED]".
func (q QR) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText reads a payload, as a scan action written by hand (a
// monitor's dispatch, a test script) gives it. "[REDACTED]" (what
// MarshalText wrote) and "" read as the zero QR: a recorded action
// replays without its payload.
func (q *QR) UnmarshalText(b []byte) error {
	if s := string(b); s != redacted {
		*q = NewQR(s)
	} else {
		*q = QR{}
	}
	return nil
}

var (
	_ fmt.Formatter            = QR{}
	_ fmt.GoStringer           = QR{}
	_ slog.LogValuer           = QR{}
	_ encoding.TextMarshaler   = QR{}
	_ encoding.TextUnmarshaler = (*QR)(nil)
)
