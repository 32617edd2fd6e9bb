package policy

import (
	"fmt"
	"strconv"
	"strings"

	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

// maxDSLDepth bounds gate nesting; real policies are a few levels deep.
const maxDSLDepth = 64

// Gate spellings Fabric's policydsl accepts (exactly these three each).
var gates = map[string]string{
	"AND": "AND", "And": "AND", "and": "AND",
	"OR": "OR", "Or": "OR", "or": "OR",
	"OUTOF": "OutOf", "OutOf": "OutOf", "outof": "OutOf",
}

var roleWords = map[string]common.MSPRole_MSPRoleType{
	"member":  common.MSPRole_MEMBER,
	"admin":   common.MSPRole_ADMIN,
	"client":  common.MSPRole_CLIENT,
	"peer":    common.MSPRole_PEER,
	"orderer": common.MSPRole_ORDERER,
}

type gateNode struct {
	name string // AND, OR or OutOf
	pos  int
	n    int
	args []gateArg
}

// gateArg is either a nested gate or a principal.
type gateArg struct {
	sub   *gateNode
	mspID string
	role  common.MSPRole_MSPRoleType
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// FromString parses Fabric's signature-policy language, e.g.
// "OR('Org1MSP.peer', AND('Org2MSP.admin', 'Org3MSP.member'))", into the
// envelope Fabric's policydsl builds for it. Like Fabric, every principal
// occurrence gets its own identity entry (no deduplication), and the
// principals of nested gates are numbered before those of the enclosing
// gate, because Fabric assigns indices while evaluating calls inside-out.
func FromString(s string) (*common.SignaturePolicyEnvelope, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", s, err)
	}
	p := &parser{toks: toks}
	if p.peek().kind != tokIdent {
		return nil, fmt.Errorf("policy %q: position %d: expected a gate (AND, OR or OutOf), found %s", s, p.peek().pos, p.peek().describe())
	}
	root, err := p.gate(0)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", s, err)
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, fmt.Errorf("policy %q: position %d: unexpected %s after the end of the policy", s, t.pos, t.describe())
	}
	b := &builder{}
	rule, err := b.build(root)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", s, err)
	}
	return &common.SignaturePolicyEnvelope{Version: 0, Rule: rule, Identities: b.identities}, nil
}

func (p *parser) gate(depth int) (*gateNode, error) {
	t := p.next()
	name, ok := gates[t.text]
	if t.kind != tokIdent || !ok {
		return nil, fmt.Errorf("position %d: unknown gate %s (want AND, OR or OutOf)", t.pos, t.describe())
	}
	if depth >= maxDSLDepth {
		return nil, fmt.Errorf("position %d: gates nested deeper than %d", t.pos, maxDSLDepth)
	}
	g := &gateNode{name: name, pos: t.pos}
	if lp := p.next(); lp.kind != tokLParen {
		return nil, fmt.Errorf("position %d: expected '(' after %s, found %s", lp.pos, t.text, lp.describe())
	}
	threshold := 0
	if name == "OutOf" {
		nt := p.next()
		var err error
		if threshold, err = parseThreshold(nt); err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokComma {
			if c.kind == tokRParen {
				return nil, fmt.Errorf("position %d: OutOf needs a threshold and at least one principal or gate", t.pos)
			}
			return nil, fmt.Errorf("position %d: expected ',' after the OutOf threshold, found %s", c.pos, c.describe())
		}
	}
	for {
		a := p.peek()
		switch a.kind {
		case tokString:
			p.next()
			arg, err := parsePrincipal(a)
			if err != nil {
				return nil, err
			}
			g.args = append(g.args, arg)
		case tokIdent:
			sub, err := p.gate(depth + 1)
			if err != nil {
				return nil, err
			}
			g.args = append(g.args, gateArg{sub: sub})
		case tokRParen:
			if len(g.args) == 0 {
				return nil, fmt.Errorf("position %d: %s needs at least one principal or gate", t.pos, t.text)
			}
			return nil, fmt.Errorf("position %d: unexpected ')' after ','", a.pos)
		case tokEOF:
			return nil, fmt.Errorf("unbalanced parentheses: %s opened at position %d is not closed", t.text, t.pos)
		default:
			return nil, fmt.Errorf("position %d: expected a quoted principal or a gate, found %s", a.pos, a.describe())
		}
		sep := p.next()
		if sep.kind == tokComma {
			continue
		}
		if sep.kind == tokRParen {
			break
		}
		if sep.kind == tokEOF {
			return nil, fmt.Errorf("unbalanced parentheses: %s opened at position %d is not closed", t.text, t.pos)
		}
		return nil, fmt.Errorf("position %d: expected ',' or ')', found %s", sep.pos, sep.describe())
	}
	switch name {
	case "AND":
		g.n = len(g.args)
	case "OR":
		g.n = 1
	default:
		// Fabric accepts t up to n+1 (a policy that can never be met) and
		// rejects anything beyond; match it exactly.
		if threshold < 0 || threshold > len(g.args)+1 {
			return nil, fmt.Errorf("position %d: invalid OutOf threshold %d for %d sub-policies (must be between 0 and %d)", t.pos, threshold, len(g.args), len(g.args)+1)
		}
		g.n = threshold
	}
	return g, nil
}

// parseThreshold accepts a whole number or, as Fabric does, a quoted one.
func parseThreshold(t token) (int, error) {
	text := t.text
	switch t.kind {
	case tokNumber:
	case tokString:
		text = strings.TrimSpace(text)
	default:
		return 0, fmt.Errorf("position %d: expected the OutOf threshold (a number), found %s", t.pos, t.describe())
	}
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("position %d: OutOf threshold %q is not a 32-bit whole number", t.pos, t.text)
	}
	return int(n), nil
}

// parsePrincipal splits 'MSPID.role' at the last dot; MSP IDs may contain
// letters, digits, dots and dashes, as in Fabric's principal pattern.
func parsePrincipal(t token) (gateArg, error) {
	s := t.text
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return gateArg{}, fmt.Errorf("position %d: principal '%s' is not of the form 'MSPID.role'", t.pos, s)
	}
	mspID, word := s[:dot], s[dot+1:]
	role, ok := roleWords[word]
	if !ok {
		return gateArg{}, fmt.Errorf("position %d: principal '%s': unknown role %q (want member, admin, client, peer or orderer)", t.pos, s, word)
	}
	if mspID == "" {
		return gateArg{}, fmt.Errorf("position %d: principal '%s': MSP ID is empty", t.pos, s)
	}
	for i := 0; i < len(mspID); i++ {
		c := mspID[i]
		if !(isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '.' || c == '-') {
			return gateArg{}, fmt.Errorf("position %d: principal '%s': MSP ID contains %q (allowed: letters, digits, '.', '-')", t.pos, s, rune(c))
		}
	}
	return gateArg{mspID: mspID, role: role}, nil
}

type builder struct {
	identities []*common.MSPPrincipal
}

func (b *builder) build(g *gateNode) (*common.SignaturePolicy, error) {
	rules := make([]*common.SignaturePolicy, len(g.args))
	for i, a := range g.args {
		if a.sub == nil {
			continue
		}
		r, err := b.build(a.sub)
		if err != nil {
			return nil, err
		}
		rules[i] = r
	}
	for i, a := range g.args {
		if a.sub != nil {
			continue
		}
		raw, err := proto.Marshal(&common.MSPRole{MspIdentifier: a.mspID, Role: a.role})
		if err != nil {
			return nil, fmt.Errorf("marshal MSPRole %s: %w", a.mspID, err)
		}
		b.identities = append(b.identities, &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_ROLE, Principal: raw})
		rules[i] = SignedBy(int32(len(b.identities) - 1))
	}
	return NOutOf(int32(g.n), rules), nil
}

// SignedBy is a rule satisfied by a signer matching identities[index].
func SignedBy(index int32) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: index}}
}

// NOutOf is a rule satisfied when n of rules are.
func NOutOf(n int32, rules []*common.SignaturePolicy) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: n, Rules: rules}}}
}
