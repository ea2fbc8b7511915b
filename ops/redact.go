package ops

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hawechaty/hawechaty/puppet"
)

// Redacted replaces what scrub removes.
const Redacted = "[REDACTED]"

// maxReason bounds the length of a reason in the health document, in bytes.
const maxReason = 512

var (
	// bearer: an HTTP credential scheme and its value.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`)
	// keyValue: a value after a key that names a credential, as in
	// token=…, "apiKey": "…", Authorization: …, ?access_token=….
	keyValue = regexp.MustCompile(`(?i)([a-z0-9_.-]*(?:token|secret|password|passwd|authorization|credential|api[-_]?key)[a-z0-9_.-]*)("?\s*[:=]\s*"?)([^\s"',;&]+)`)
	// userinfo: user:password@ in a URL.
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@`)
)

// scrubber removes secrets from free text (a bot's reason, which may
// carry a puppet's or a platform's error text).
type scrubber struct {
	secrets []string
}

// newScrubber knows the given secrets' values; empty ones are ignored.
func newScrubber(secrets []puppet.Secret) scrubber {
	var sc scrubber
	for _, s := range secrets {
		if !s.IsZero() {
			sc.secrets = append(sc.secrets, s.Reveal())
		}
	}
	return sc
}

// scrub returns s with every known secret, every value given to a key
// that names a credential, every bearer or basic credential and every
// password in a URL replaced by [REDACTED]; control characters become
// spaces, and the result is cut to 512 bytes.
func (sc scrubber) scrub(s string) string {
	if s == "" {
		return s
	}
	for _, v := range sc.secrets {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	s = keyValue.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValue.FindStringSubmatch(m)
		if sub[3] == Redacted || strings.HasPrefix(sub[3], "[REDACTED") {
			return m
		}
		return sub[1] + sub[2] + Redacted
	})
	s = userinfo.ReplaceAllString(s, "${1}"+Redacted+"@")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
