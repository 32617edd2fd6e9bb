package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// principalRE is the principal form Fabric's policy language accepts:
// an MSP ID, a dot, and a role.
var principalRE = regexp.MustCompile(`^([A-Za-z0-9.-]+)\.(admin|member|client|peer|orderer)$`)

// endorsementMSPs checks the syntax of a signature policy string such as
// "OutOf(2, 'Org1MSP.peer', AND('Org2MSP.member', 'Org3MSP.admin'))" and
// returns the MSP IDs it names, in order of appearance. This is a light
// check meant for early, well-located errors; package policy owns the real
// compiler.
func endorsementMSPs(s string) ([]string, error) {
	ps := &policyScanner{src: s}
	var msps []string
	if err := ps.expr(&msps, 0); err != nil {
		return nil, err
	}
	ps.space()
	if ps.pos < len(ps.src) {
		return nil, fmt.Errorf("unexpected %q after the policy at offset %d", ps.rest(), ps.pos)
	}
	return msps, nil
}

// maxPolicyDepth bounds nesting so a hostile string cannot exhaust the stack.
const maxPolicyDepth = 32

type policyScanner struct {
	src string
	pos int
}

func (s *policyScanner) space() {
	for s.pos < len(s.src) && strings.ContainsRune(" \t\r\n", rune(s.src[s.pos])) {
		s.pos++
	}
}

func (s *policyScanner) rest() string {
	r := s.src[s.pos:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (s *policyScanner) eat(c byte) bool {
	s.space()
	if s.pos < len(s.src) && s.src[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *policyScanner) word() string {
	s.space()
	start := s.pos
	for s.pos < len(s.src) && isAlnum(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

// expr parses AND(...), OR(...) or OutOf(n, ...); a bare principal is only
// valid as an argument, as in Fabric.
func (s *policyScanner) expr(msps *[]string, depth int) error {
	if depth > maxPolicyDepth {
		return fmt.Errorf("policy nests deeper than %d levels", maxPolicyDepth)
	}
	at := s.pos
	fn := s.word()
	if fn == "" {
		if s.pos >= len(s.src) {
			return fmt.Errorf("expected AND(, OR( or OutOf( but the policy ended")
		}
		return fmt.Errorf("expected AND(, OR( or OutOf( at offset %d, found %q", s.pos, s.rest())
	}
	gate := strings.ToLower(fn)
	if gate != "and" && gate != "or" && gate != "outof" {
		return fmt.Errorf("unknown operator %q at offset %d; use AND, OR or OutOf", fn, at)
	}
	if !s.eat('(') {
		return fmt.Errorf("expected ( after %s at offset %d", fn, s.pos)
	}
	n := -1
	if gate == "outof" {
		num := s.word()
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return fmt.Errorf("OutOf needs a positive count as its first argument, found %q", num)
		}
		n = v
		if !s.eat(',') {
			return fmt.Errorf("expected , after the OutOf count at offset %d", s.pos)
		}
	}
	args := 0
	for {
		if err := s.arg(msps, depth); err != nil {
			return err
		}
		args++
		if s.eat(',') {
			continue
		}
		if s.eat(')') {
			break
		}
		if s.pos >= len(s.src) {
			return fmt.Errorf("missing ) to close %s", fn)
		}
		return fmt.Errorf("expected , or ) at offset %d, found %q", s.pos, s.rest())
	}
	if n > args {
		return fmt.Errorf("OutOf(%d, ...) has only %d arguments and can never be satisfied", n, args)
	}
	return nil
}

func (s *policyScanner) arg(msps *[]string, depth int) error {
	s.space()
	if s.pos < len(s.src) && (s.src[s.pos] == '\'' || s.src[s.pos] == '"') {
		q := s.src[s.pos]
		end := strings.IndexByte(s.src[s.pos+1:], q)
		if end < 0 {
			return fmt.Errorf("unterminated quote at offset %d", s.pos)
		}
		p := s.src[s.pos+1 : s.pos+1+end]
		m := principalRE.FindStringSubmatch(p)
		if m == nil {
			return fmt.Errorf("principal %q is not of the form 'MSPID.role' with role admin, member, client, peer or orderer", p)
		}
		*msps = append(*msps, m[1])
		s.pos += end + 2
		return nil
	}
	return s.expr(msps, depth+1)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
