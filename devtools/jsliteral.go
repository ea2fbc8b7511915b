package devtools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxLiteralDepth bounds nesting in a monitor's action literal.
const maxLiteralDepth = 32

// jsLiteralToJSON converts the JavaScript object literal a Redux DevTools
// monitor sends from its dispatcher panel ({ type: 'ADD', by: 5 }) to the
// JSON that JSON.stringify would make of it, byte for byte, in strict mode:
//
//   - strings in single or double quotes with every escape JavaScript
//     has (\b \f \v \0 \xNN \uNNNN \u{N…}, line continuations, any other
//     character standing for itself), UTF-16 semantics (surrogate pairs
//     join, lone surrogates come out as \uNNNN escapes, as JSON.stringify
//     writes them);
//   - numbers: decimal with fraction and exponent, 0x 0o 0b, numeric
//     separators, one leading sign; ±0 is 0;
//   - true, false, null, undefined (dropped from objects, null in arrays);
//   - arrays with holes and trailing commas; objects with identifier
//     (Unicode, \u escapes, reserved words), string or numeric keys, a
//     later duplicate key replacing the value of the first, array-index
//     keys first in numeric order, and __proto__: value setting the
//     prototype, so that it is not an own property;
//   - comments, and every whitespace and line terminator JavaScript knows.
//
// What JavaScript would reject is an error. So are, though JavaScript
// accepts them, expressions of any kind (identifiers other than undefined,
// NaN, Infinity, parentheses, computed keys, shorthand properties,
// methods, templates, regular expressions, more than one sign), numbers
// that are not finite, and nesting deeper than maxLiteralDepth. Every
// error wraps ErrBadFrame. testdata/jsliteral holds the cases, checked
// against Node.
func jsLiteralToJSON(src string) ([]byte, error) {
	p := &litParser{s: src}
	if err := p.space(); err != nil {
		return nil, err
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.space(); err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, p.errf("unexpected %q", p.s[p.i:min(len(p.s), p.i+10)])
	}
	if v == nil { // undefined
		return []byte("null"), nil
	}
	return v, nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) errf(format string, a ...any) error {
	return fmt.Errorf("%w: action literal at %d: %s", ErrBadFrame, p.i, fmt.Sprintf(format, a...))
}

// peek returns the rune at p.i and its width; width 0 at the end. A byte
// that is not UTF-8 reads as U+FFFD.
func (p *litParser) peek() (rune, int) {
	if p.i >= len(p.s) {
		return 0, 0
	}
	if c := p.s[p.i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(p.s[p.i:])
}

func (p *litParser) peekAt(off int) byte {
	if p.i+off < len(p.s) {
		return p.s[p.i+off]
	}
	return 0
}

// isLineTerminator is JavaScript's LineTerminator.
func isLineTerminator(r rune) bool { return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 }

// isJSSpace is JavaScript's WhiteSpace (TAB, VT, FF, ZWNBSP, any Zs).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', ' ', 0xA0, 0xFEFF:
		return true
	}
	return r > 0xFF && unicode.Is(unicode.Zs, r)
}

// space skips whitespace, line terminators and comments.
func (p *litParser) space() error {
	for {
		r, w := p.peek()
		switch {
		case w == 0:
			return nil
		case isJSSpace(r) || isLineTerminator(r):
			p.i += w
		case r == '/' && p.peekAt(1) == '*':
			end := strings.Index(p.s[p.i+2:], "*/")
			if end < 0 {
				return p.errf("unterminated comment")
			}
			p.i += 2 + end + 2
		case r == '/' && p.peekAt(1) == '/':
			p.i += 2
			for r, w := p.peek(); w > 0 && !isLineTerminator(r); r, w = p.peek() {
				p.i += w
			}
		default:
			return nil
		}
	}
}

// value parses one value and returns its JSON, or nil for undefined.
func (p *litParser) value(depth int) ([]byte, error) {
	if depth > maxLiteralDepth {
		return nil, p.errf("nested too deep")
	}
	r, w := p.peek()
	switch {
	case w == 0:
		return nil, p.errf("unexpected end")
	case r == '{':
		return p.object(depth)
	case r == '[':
		return p.array(depth)
	case r == '\'' || r == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendJSString(nil, s), nil
	case r == '-' || r == '+':
		p.i++
		if err := p.space(); err != nil {
			return nil, err
		}
		if c, _ := p.peek(); !isDigit(c) && c != '.' {
			return nil, p.errf("a sign must be followed by a number")
		}
		f, err := p.number()
		if err != nil {
			return nil, err
		}
		if r == '-' {
			f = -f
		}
		return jsNumberJSON(f), nil
	case isDigit(r) || r == '.':
		f, err := p.number()
		if err != nil {
			return nil, err
		}
		return jsNumberJSON(f), nil
	case r == '\\' || isIDStart(r):
		start := p.i
		name, escaped, err := p.identName()
		if err != nil {
			return nil, err
		}
		switch word := string(utf16.Decode(name)); word {
		case "true", "false", "null":
			if escaped {
				p.i = start
				return nil, p.errf("a keyword must not contain escapes")
			}
			return []byte(word), nil
		case "undefined":
			return nil, nil
		default:
			p.i = start
			return nil, p.errf("unsupported value %q", word)
		}
	}
	return nil, p.errf("unexpected %q", r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// isIDStart is JavaScript's IdentifierStartChar.
func isIDStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '$' || r == '_' || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_ID_Start) &&
		!unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
}

// isIDPart is JavaScript's IdentifierPartChar.
func isIDPart(r rune) bool {
	if r < utf8.RuneSelf {
		return isIDStart(r) || isDigit(r)
	}
	return isIDStart(r) || r == 0x200C || r == 0x200D ||
		unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue) &&
			!unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
}

// identName parses an IdentifierName, with \u escapes; escaped reports
// whether it had any.
func (p *litParser) identName() (name []uint16, escaped bool, err error) {
	for first := true; ; first = false {
		r, w := p.peek()
		if r == '\\' {
			if p.peekAt(1) != 'u' {
				return nil, false, p.errf("bad escape in an identifier")
			}
			p.i += 2
			if r, err = p.unicodeEscape(); err != nil {
				return nil, false, err
			}
			escaped = true
		} else {
			if w == 0 || !(first && isIDStart(r) || !first && isIDPart(r)) {
				if first {
					return nil, false, p.errf("expected an identifier")
				}
				return name, escaped, nil
			}
			p.i += w
		}
		if !(first && isIDStart(r) || !first && isIDPart(r)) {
			return nil, false, p.errf("%U cannot be part of an identifier", r)
		}
		name = appendCodePoint(name, r)
	}
}

// appendCodePoint appends r as UTF-16; a surrogate (from an escape) is
// one code unit, as in JavaScript.
func appendCodePoint(s []uint16, r rune) []uint16 {
	if utf16.IsSurrogate(r) {
		return append(s, uint16(r))
	}
	return utf16.AppendRune(s, r)
}

// unicodeEscape reads the rest of \u: four hex digits, or {hex digits}
// up to 10FFFF. It returns the code unit or code point.
func (p *litParser) unicodeEscape() (rune, error) {
	if p.peekAt(0) == '{' {
		p.i++
		var cp rune
		digits := 0
		for ; p.i < len(p.s) && p.s[p.i] != '}'; p.i++ {
			d, ok := hexVal(p.s[p.i])
			if !ok {
				return 0, p.errf(`bad \u{…} escape`)
			}
			if cp = cp<<4 | rune(d); cp > unicode.MaxRune {
				return 0, p.errf(`\u{…} escape above 10FFFF`)
			}
			digits++
		}
		if p.i >= len(p.s) || digits == 0 {
			return 0, p.errf(`bad \u{…} escape`)
		}
		p.i++ // }
		return cp, nil
	}
	return p.hexDigits(4, `\u`)
}

// hexDigits reads exactly n hex digits.
func (p *litParser) hexDigits(n int, what string) (rune, error) {
	var v rune
	for range n {
		d, ok := hexVal(p.peekAt(0))
		if !ok {
			return 0, p.errf("bad %s escape", what)
		}
		v = v<<4 | rune(d)
		p.i++
	}
	return v, nil
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10, true
	}
	return 0, false
}

// str parses a string literal into UTF-16 code units, as JavaScript holds
// it (strict mode: no octal escapes).
func (p *litParser) str() ([]uint16, error) {
	q, _ := p.peek()
	p.i++
	var s []uint16
	for {
		r, w := p.peek()
		switch {
		case w == 0:
			return nil, p.errf("unterminated string")
		case r == q:
			p.i++
			return s, nil
		case r == '\n' || r == '\r':
			return nil, p.errf("newline in string")
		case r != '\\':
			s = utf16.AppendRune(s, r)
			p.i += w
			continue
		}
		p.i++ // the backslash
		e, w := p.peek()
		if w == 0 {
			return nil, p.errf("unfinished escape")
		}
		p.i += w
		switch e {
		case 'b':
			s = append(s, '\b')
		case 'f':
			s = append(s, '\f')
		case 'n':
			s = append(s, '\n')
		case 'r':
			s = append(s, '\r')
		case 't':
			s = append(s, '\t')
		case 'v':
			s = append(s, '\v')
		case '0':
			if isDigit(rune(p.peekAt(0))) {
				return nil, p.errf("octal escape (not allowed in strict mode)")
			}
			s = append(s, 0)
		case '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return nil, p.errf(`\%c escape (not allowed in strict mode)`, e)
		case 'x':
			v, err := p.hexDigits(2, `\x`)
			if err != nil {
				return nil, err
			}
			s = append(s, uint16(v))
		case 'u':
			v, err := p.unicodeEscape()
			if err != nil {
				return nil, err
			}
			s = appendCodePoint(s, v)
		case '\r':
			if p.peekAt(0) == '\n' {
				p.i++
			}
		case '\n', 0x2028, 0x2029: // a line continuation: nothing
		default:
			s = utf16.AppendRune(s, e)
		}
	}
}

// number parses an unsigned numeric literal.
func (p *litParser) number() (float64, error) {
	start := p.i
	var f float64
	if p.peekAt(0) == '0' && strings.IndexByte("xXoObB", p.peekAt(1)) >= 0 {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[p.peekAt(1)|0x20]
		p.i += 2
		digits, err := p.digits(base)
		if err != nil {
			return 0, err
		}
		n, ok := new(big.Int).SetString(digits, base)
		if !ok {
			return 0, p.errf("bad number %q", p.s[start:p.i])
		}
		f, _ = new(big.Float).SetInt(n).Float64() // nearest, ties to even, as JavaScript
	} else {
		var b strings.Builder
		if p.peekAt(0) != '.' {
			if p.peekAt(0) == '0' && (isDigit(rune(p.peekAt(1))) || p.peekAt(1) == '_') {
				return 0, p.errf("legacy octal or leading zero (not allowed in strict mode)")
			}
			d, err := p.digits(10)
			if err != nil {
				return 0, err
			}
			b.WriteString(d)
		}
		if p.peekAt(0) == '.' {
			p.i++
			b.WriteByte('.')
			if isDigit(rune(p.peekAt(0))) {
				d, err := p.digits(10)
				if err != nil {
					return 0, err
				}
				b.WriteString(d)
			} else if b.Len() == 1 {
				return 0, p.errf("a lone '.'")
			}
		}
		if p.peekAt(0)|0x20 == 'e' {
			p.i++
			b.WriteByte('e')
			if c := p.peekAt(0); c == '+' || c == '-' {
				b.WriteByte(c)
				p.i++
			}
			d, err := p.digits(10)
			if err != nil {
				return 0, err
			}
			b.WriteString(d)
		}
		var err error
		if f, err = strconv.ParseFloat(b.String(), 64); err != nil && !math.IsInf(f, 0) {
			return 0, p.errf("bad number %q", p.s[start:p.i])
		}
	}
	if r, _ := p.peek(); isIDStart(r) || isDigit(r) || r == '\\' {
		return 0, p.errf("a number must not be followed by %q", r)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, p.errf("number %q is not finite", p.s[start:p.i])
	}
	return f, nil
}

// digits reads one or more digits of base, with single underscores
// between them, and returns them without the underscores.
func (p *litParser) digits(base int) (string, error) {
	var b strings.Builder
	for {
		c := p.peekAt(0)
		if d, ok := hexVal(c); ok && int(d) < base && (base == 16 || isDigit(rune(c))) {
			b.WriteByte(c)
			p.i++
			continue
		}
		if c == '_' && b.Len() > 0 {
			if d, ok := hexVal(p.peekAt(1)); ok && int(d) < base && (base == 16 || isDigit(rune(p.peekAt(1)))) {
				p.i++
				continue
			}
			return "", p.errf("misplaced numeric separator")
		}
		if b.Len() == 0 {
			return "", p.errf("expected a digit")
		}
		return b.String(), nil
	}
}

// jsNumberJSON writes a finite number as JSON.stringify does: Go's JSON
// encoder follows the same rules (ECMAScript Number::toString), except
// that JavaScript writes -0 as 0.
func jsNumberJSON(f float64) []byte {
	if f == 0 {
		return []byte("0")
	}
	b, _ := json.Marshal(f) // finite: cannot fail
	return b
}

// entry is one property of an object literal; val is nil for undefined.
type entry struct {
	key []uint16
	val []byte
}

func (p *litParser) object(depth int) ([]byte, error) {
	p.i++ // {
	var (
		entries []entry
		index   = map[string]int{}
		proto   bool
	)
	for {
		if err := p.space(); err != nil {
			return nil, err
		}
		r, w := p.peek()
		if w == 0 {
			return nil, p.errf("unterminated object")
		}
		if r == '}' {
			p.i++
			break
		}
		var (
			key      []uint16
			isString bool
			err      error
		)
		switch {
		case r == '\'' || r == '"':
			key, err = p.str()
			isString = true
		case isDigit(r) || r == '.':
			var f float64
			if f, err = p.number(); err == nil {
				key = utf16.Encode([]rune(string(jsNumberJSON(f))))
			}
		case r == '[':
			err = p.errf("computed keys are not supported")
		default:
			key, _, err = p.identName()
			isString = true
		}
		if err != nil {
			return nil, err
		}
		if err := p.space(); err != nil {
			return nil, err
		}
		if p.peekAt(0) != ':' {
			return nil, p.errf("expected ':' after key %q", string(utf16.Decode(key)))
		}
		p.i++
		if err := p.space(); err != nil {
			return nil, err
		}
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch k := string(utf16.Decode(key)); {
		case isString && k == "__proto__":
			// __proto__: value sets the prototype: not an own property,
			// so JSON.stringify leaves it out. Twice is an error.
			if proto {
				return nil, p.errf("duplicate __proto__")
			}
			proto = true
		default:
			ks := string(unitsBytes(key))
			if at, ok := index[ks]; ok {
				entries[at].val = val // a later duplicate replaces the value, in place
			} else {
				index[ks] = len(entries)
				entries = append(entries, entry{key, val})
			}
		}
		if err := p.space(); err != nil {
			return nil, err
		}
		if p.peekAt(0) == ',' {
			p.i++
			continue
		}
		if p.peekAt(0) != '}' {
			return nil, p.errf("expected ',' or '}'")
		}
	}
	// Array-index keys come first, in numeric order; the others keep
	// their order (OrdinaryOwnPropertyKeys).
	slices.SortStableFunc(entries, func(a, b entry) int {
		ia, oka := arrayIndex(a.key)
		ib, okb := arrayIndex(b.key)
		switch {
		case oka && okb:
			return int(ia - ib)
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	out := []byte{'{'}
	first := true
	for _, e := range entries {
		if e.val == nil {
			continue // undefined: left out
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendJSString(out, e.key)
		out = append(out, ':')
		out = append(out, e.val...)
	}
	return append(out, '}'), nil
}

// unitsBytes is a map key for a string of code units.
func unitsBytes(s []uint16) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, u := range s {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// arrayIndex reports whether key is an array index (the canonical
// decimal form of an integer below 2³²-1) and its value.
func arrayIndex(key []uint16) (int64, bool) {
	if len(key) == 0 || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	var n int64
	for _, u := range key {
		if u < '0' || u > '9' {
			return 0, false
		}
		n = n*10 + int64(u-'0')
	}
	return n, n < 1<<32-1
}

func (p *litParser) array(depth int) ([]byte, error) {
	p.i++ // [
	out := []byte{'['}
	n := 0
	item := func(v []byte) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		if v == nil {
			v = []byte("null") // a hole or undefined
		}
		out = append(out, v...)
	}
	for {
		if err := p.space(); err != nil {
			return nil, err
		}
		r, w := p.peek()
		switch {
		case w == 0:
			return nil, p.errf("unterminated array")
		case r == ']':
			p.i++
			return append(out, ']'), nil
		case r == ',':
			p.i++
			item(nil) // a hole
			continue
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		item(v)
		if err := p.space(); err != nil {
			return nil, err
		}
		switch p.peekAt(0) {
		case ',':
			p.i++
		case ']':
		default:
			return nil, p.errf("expected ',' or ']'")
		}
	}
}

// appendJSString writes a string of UTF-16 code units as JSON.stringify
// does: the short escapes, \u00XX for other controls, \uXXXX for a lone
// surrogate, everything else as it is (as UTF-8).
func appendJSString(b []byte, s []uint16) []byte {
	var buf bytes.Buffer
	buf.Write(b)
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		u := s[i]
		switch {
		case u == '"':
			buf.WriteString(`\"`)
		case u == '\\':
			buf.WriteString(`\\`)
		case u == '\b':
			buf.WriteString(`\b`)
		case u == '\f':
			buf.WriteString(`\f`)
		case u == '\n':
			buf.WriteString(`\n`)
		case u == '\r':
			buf.WriteString(`\r`)
		case u == '\t':
			buf.WriteString(`\t`)
		case u < 0x20:
			fmt.Fprintf(&buf, `\u%04x`, u)
		case utf16.IsSurrogate(rune(u)):
			if u < 0xDC00 && i+1 < len(s) && s[i+1] >= 0xDC00 && s[i+1] <= 0xDFFF {
				buf.WriteRune(utf16.DecodeRune(rune(u), rune(s[i+1])))
				i++
				continue
			}
			fmt.Fprintf(&buf, `\u%04x`, u)
		default:
			buf.WriteRune(rune(u))
		}
	}
	buf.WriteByte('"')
	return buf.Bytes()
}
