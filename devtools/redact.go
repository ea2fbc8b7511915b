package devtools

import (
	"bytes"
	"encoding/json"
	"regexp"
)

// A Redactor rewrites the JSON of a state or action before it leaves the
// process. It returns the JSON to send.
type Redactor func(data []byte) ([]byte, error)

var secretKey = regexp.MustCompile(`(?i)token|secret|password|passwd|authorization|credential`)

// RedactSecrets is the default Redactor: every value under a key that looks
// like a secret (token, secret, password, authorization, credential) is
// replaced by "[REDACTED]". puppet.Secret values already marshal redacted.
func RedactSecrets(data []byte) ([]byte, error) {
	if !secretKey.Match(data) && !bytes.Contains(data, []byte(`\u`)) {
		// Nothing that looks like a secret key, even escaped: fast path.
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(redactValue(v))
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey.MatchString(k) {
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
