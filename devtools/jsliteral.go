package devtools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// maxLiteralDepth bounds nesting in a monitor's action literal.
const maxLiteralDepth = 32

// jsLiteralToJSON converts the JavaScript object literal a Redux DevTools
// monitor sends from its dispatcher panel ({ type: 'ADD', by: 5 }) to JSON.
// It accepts unquoted keys, single- or double-quoted strings, numbers,
// true/false/null, undefined (as null), arrays, nested objects and
// trailing commas. Anything else (functions, expressions) is an error.
func jsLiteralToJSON(src string) ([]byte, error) {
	p := &litParser{s: src}
	var out bytes.Buffer
	p.space()
	if err := p.value(&out, 0); err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errf("unexpected %q", p.s[p.i:min(len(p.s), p.i+10)])
	}
	return out.Bytes(), nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) errf(format string, a ...any) error {
	return fmt.Errorf("%w: action literal at %d: %s", ErrBadFrame, p.i, fmt.Sprintf(format, a...))
}

func (p *litParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *litParser) value(out *bytes.Buffer, depth int) error {
	if depth > maxLiteralDepth {
		return p.errf("nested too deep")
	}
	if p.i >= len(p.s) {
		return p.errf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(out, depth)
	case c == '[':
		return p.array(out, depth)
	case c == '\'' || c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		b, _ := json.Marshal(s)
		out.Write(b)
		return nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		start := p.i
		p.i++
		for p.i < len(p.s) && strings.IndexByte("0123456789.eE+-", p.s[p.i]) >= 0 {
			p.i++
		}
		f, err := strconv.ParseFloat(p.s[start:p.i], 64)
		if err != nil {
			return p.errf("bad number %q", p.s[start:p.i])
		}
		b, err := json.Marshal(f)
		if err != nil {
			return p.errf("number %q: %v", p.s[start:p.i], err)
		}
		out.Write(b)
		return nil
	default:
		word := p.ident()
		switch word {
		case "true", "false", "null":
			out.WriteString(word)
		case "undefined":
			out.WriteString("null")
		case "":
			return p.errf("unexpected %q", c)
		default:
			return p.errf("unsupported value %q", word)
		}
		return nil
	}
}

func (p *litParser) ident() string {
	start := p.i
	for p.i < len(p.s) {
		r := rune(p.s[p.i])
		if r == '_' || r == '$' || unicode.IsLetter(r) || (p.i > start && unicode.IsDigit(r)) {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *litParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.errf("unfinished escape")
			}
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if p.i+4 >= len(p.s) {
					return "", p.errf("short \\u escape")
				}
				n, err := strconv.ParseUint(p.s[p.i+1:p.i+5], 16, 32)
				if err != nil {
					return "", p.errf("bad \\u escape")
				}
				b.WriteRune(rune(n))
				p.i += 4
			default:
				b.WriteByte(e)
			}
			p.i++
		case c == '\n':
			return "", p.errf("newline in string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errf("unterminated string")
}

func (p *litParser) object(out *bytes.Buffer, depth int) error {
	return p.list(out, '{', '}', "object", func() error {
		var key string
		if c := p.s[p.i]; c == '\'' || c == '"' {
			k, err := p.str()
			if err != nil {
				return err
			}
			key = k
		} else if key = p.ident(); key == "" {
			return p.errf("expected a key")
		}
		kb, _ := json.Marshal(key)
		out.Write(kb)
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.errf("expected ':' after %q", key)
		}
		p.i++
		out.WriteByte(':')
		p.space()
		return p.value(out, depth+1)
	})
}

func (p *litParser) array(out *bytes.Buffer, depth int) error {
	return p.list(out, '[', ']', "array", func() error { return p.value(out, depth+1) })
}

// list parses the items of an object or an array, from its opening byte
// to its closing one, and writes them to out separated by commas. item
// parses one item, starting at a byte that is not a space.
func (p *litParser) list(out *bytes.Buffer, open, end byte, what string, item func() error) error {
	p.i++ // open
	out.WriteByte(open)
	for first := true; ; first = false {
		p.space()
		if p.i >= len(p.s) {
			return p.errf("unterminated %s", what)
		}
		if p.s[p.i] == end {
			p.i++
			out.WriteByte(end)
			return nil
		}
		if !first {
			out.WriteByte(',')
		}
		if err := item(); err != nil {
			return err
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i >= len(p.s) || p.s[p.i] != end {
			return p.errf("expected ',' or '%c'", end)
		}
	}
}
