package devtools

import (
	"bytes"
	"encoding/json"
)

// A Redactor rewrites the JSON of a state or action before it leaves the
// process. It returns the JSON to send.
type Redactor func(data []byte) ([]byte, error)

// secretWords make a key secret when it contains one, in any ASCII case.
var secretWords = []string{"token", "secret", "password", "passwd", "authorization", "credential"}

// RedactSecrets is the default Redactor: every value under a key that
// contains token, secret, password, passwd, authorization or credential
// (in any case) is replaced by "[REDACTED]", however deep. puppet.Secret
// values already marshal as "[REDACTED]", whatever their key.
func RedactSecrets(data []byte) ([]byte, error) {
	if !mayHoldSecret(data) {
		return data, nil // the fast path: one byte scan, no decoding
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(redactValue(v))
}

// secretKey reports whether a key names a secret: it contains a secret
// word in any ASCII case (as mayHoldSecret sees it).
func secretKey(k string) bool {
	for i := range len(k) {
		for _, w := range secretWords {
			if hasFoldPrefix(k[i:], w) {
				return true
			}
		}
	}
	return false
}

// mayHoldSecret reports whether data contains a secret word in any ASCII
// case, or a \u escape that could spell one in a key. When it is false no
// key can be secret. (A regexp costs twenty times more on a big state.)
func mayHoldSecret(data []byte) bool {
	for i, b := range data {
		switch lower := b | 0x20; lower {
		case 't', 's', 'p', 'a', 'c':
			for _, w := range secretWords {
				if w[0] == lower && hasFoldPrefix(data[i:], w) {
					return true
				}
			}
		case '|': // b is '\\' (0x5c) or '|'
			if b == '\\' && i+1 < len(data) && data[i+1] == 'u' {
				return true
			}
		}
	}
	return false
}

// hasFoldPrefix reports whether b starts with the lower-case ASCII word w
// in any ASCII case.
func hasFoldPrefix[T string | []byte](b T, w string) bool {
	if len(b) < len(w) {
		return false
	}
	for j := range len(w) {
		if b[j]|0x20 != w[j] {
			return false
		}
	}
	return true
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				x[k] = "[REDACTED]"
			} else {
				x[k] = redactValue(val)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
		return x
	}
	return v
}
