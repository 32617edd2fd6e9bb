package policy

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokComma
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of input"
	case tokIdent:
		return "name"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokComma:
		return "','"
	}
	return "token"
}

// token carries its 1-based byte position in the policy string so errors
// can point at it.
type token struct {
	kind tokenKind
	text string // identifier, number digits, or unescaped string content
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokIdent, tokNumber:
		return fmt.Sprintf("%s %q", t.kind, t.text)
	case tokString:
		return fmt.Sprintf("string '%s'", t.text)
	}
	return t.kind.String()
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", pos})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", pos})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", pos})
			i++
		case c == '\'' || c == '"':
			text, n, err := lexString(s[i:], pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, text, pos})
			i += n
		case isDigit(c) || c == '-':
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if c == '-' && j == i+1 {
				return nil, fmt.Errorf("position %d: '-' must be followed by digits", pos)
			}
			if j < len(s) && (s[j] == '.' || isIdentChar(s[j])) {
				return nil, fmt.Errorf("position %d: malformed number %q (only whole numbers are allowed)", pos, s[i:min(len(s), j+1)])
			}
			toks = append(toks, token{tokNumber, s[i:j], pos})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, s[i:j], pos})
			i = j
		default:
			return nil, fmt.Errorf("position %d: unexpected character %q", pos, rune(c))
		}
	}
	return append(toks, token{tokEOF, "", len(s) + 1}), nil
}

// lexString reads a quoted string at the start of s and returns its content
// and the number of bytes consumed.
func lexString(s string, pos int) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("position %d: unterminated string", pos)
			}
			i++
			switch s[i] {
			case '\\', '\'', '"':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				return "", 0, fmt.Errorf("position %d: unsupported escape \\%c in string", pos+i-1, s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("position %d: unterminated string (missing closing %c)", pos, quote)
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
