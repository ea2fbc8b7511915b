package puppet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Secret holds a credential such as a puppet token. It prints as
// "[REDACTED]" under every fmt verb (it is a fmt.Formatter), in every
// nesting (slices, maps, Config, unexported fields), and encodes as
// "[REDACTED]" with encoding/json, encoding.TextMarshaler users (xml,
// slog's text handler), slog.LogValuer and encoding/gob. Reveal returns
// the value for the one place that needs it: the connection to the
// platform.
//
// The value is not held in a printable form: a Secret is a pointer to the
// token sealed with a key that lives only in this process's memory, so
// even printers that walk unexported fields by reflection (fmt does for an
// unexported field, without calling its methods) show an address, or
// bytes that are of no use without the key. The zero Secret is empty.
//
// Secrets compare with Equal; == compares identities, not values.
type Secret struct{ s *sealed }

// sealed is a token encrypted (AES-CTR) under sealKey with its own random
// IV.
type sealed struct {
	iv [aes.BlockSize]byte
	ct []byte
}

// sealKey is drawn once per process; nothing ever prints or stores it.
var sealKey cipher.Block

func init() {
	var k [32]byte
	_, _ = rand.Read(k[:])           // crypto/rand.Read never fails (it crashes the program instead)
	sealKey, _ = aes.NewCipher(k[:]) // a 32-byte key is always valid
}

// NewSecret wraps s. NewSecret("") is the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	x := &sealed{ct: make([]byte, len(s))}
	_, _ = rand.Read(x.iv[:])
	cipher.NewCTR(sealKey, x.iv[:]).XORKeyStream(x.ct, []byte(s))
	return Secret{s: x}
}

// Reveal returns the secret value.
func (s Secret) Reveal() string {
	if s.s == nil {
		return ""
	}
	out := make([]byte, len(s.s.ct))
	cipher.NewCTR(sealKey, s.s.iv[:]).XORKeyStream(out, s.s.ct)
	return string(out)
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.s == nil || len(s.s.ct) == 0 }

// Equal reports whether s and o hold the same value, in constant time for
// values of equal length.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

const redacted = "[REDACTED]"

// ErrSecretDecode is returned when something tries to decode a Secret: a
// Secret is always encoded redacted, so there is nothing to decode.
var ErrSecretDecode = errors.New("puppet: a Secret is encoded redacted and cannot be decoded")

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb, flag, width and precision
// prints "[REDACTED]" (%q quotes it).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(`"` + redacted + `"`))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// LogValue implements slog.LogValuer without revealing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the secret as "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes the secret as "[REDACTED]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// GobEncode encodes the secret as "[REDACTED]".
func (s Secret) GobEncode() ([]byte, error) { return []byte(redacted), nil }

// GobDecode always fails with ErrSecretDecode: no encoding holds a value.
func (s *Secret) GobDecode([]byte) error { return ErrSecretDecode }

var (
	_ fmt.Formatter          = Secret{}
	_ fmt.GoStringer         = Secret{}
	_ slog.LogValuer         = Secret{}
	_ json.Marshaler         = Secret{}
	_ encoding.TextMarshaler = Secret{}
	_ gob.GobEncoder         = Secret{}
	_ gob.GobDecoder         = (*Secret)(nil)
)
