package policy

import (
	"errors"
	"fmt"
	"strings"

	"weft/msp"
	common "weft/wire/common"
)

type signaturePolicy struct {
	env *common.SignaturePolicyEnvelope
	mg  *msp.Manager
}

// NewSignaturePolicy checks env (version 0, every signed_by index in range)
// and returns a policy evaluating it against identities of mg.
func NewSignaturePolicy(env *common.SignaturePolicyEnvelope, mg *msp.Manager) (Policy, error) {
	if env == nil {
		return nil, errors.New("signature policy: envelope is nil")
	}
	if mg == nil {
		return nil, errors.New("signature policy: msp manager is nil")
	}
	if env.GetVersion() != 0 {
		return nil, fmt.Errorf("signature policy: version %d is not supported, want 0", env.GetVersion())
	}
	if err := checkRule(env.GetRule(), len(env.GetIdentities()), 0); err != nil {
		return nil, fmt.Errorf("signature policy: %w", err)
	}
	for i, p := range env.GetIdentities() {
		if p == nil {
			return nil, fmt.Errorf("signature policy: identities[%d] is nil", i)
		}
	}
	return &signaturePolicy{env: env, mg: mg}, nil
}

// maxRuleDepth protects against hostile deeply nested envelopes.
const maxRuleDepth = 1000

func checkRule(r *common.SignaturePolicy, nIDs, depth int) error {
	if depth > maxRuleDepth {
		return fmt.Errorf("rule nested deeper than %d", maxRuleDepth)
	}
	if r == nil {
		return errors.New("rule is empty")
	}
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		if t.SignedBy < 0 || int(t.SignedBy) >= nIDs {
			return fmt.Errorf("signed_by %d is out of range: the envelope has %d identities", t.SignedBy, nIDs)
		}
		return nil
	case *common.SignaturePolicy_NOutOf_:
		if t.NOutOf == nil {
			return errors.New("n_out_of is empty")
		}
		for i, sub := range t.NOutOf.GetRules() {
			if err := checkRule(sub, nIDs, depth+1); err != nil {
				return fmt.Errorf("n_out_of rule %d: %w", i, err)
			}
		}
		return nil
	}
	return fmt.Errorf("rule has no type (neither signed_by nor n_out_of)")
}

// evaluation holds one run's deduplicated signers and memoised principal
// checks (a leaf may be tried against each signer many times).
type evaluation struct {
	p        *signaturePolicy
	ids      []*msp.Identity
	memo     map[[2]int]bool
	rejected []string
	supplied int
}

func (p *signaturePolicy) EvaluateSignedData(sds []SignedData) error {
	ev := &evaluation{p: p, memo: map[[2]int]bool{}, supplied: len(sds)}
	ev.collect(sds)
	if ev.eval(p.env.GetRule(), make([]bool, len(ev.ids))) {
		return nil
	}
	return ev.explain()
}

// collect keeps the signers whose identity is valid and whose signature
// verifies, each identity once. Like Fabric, an identity already accepted
// is skipped before its signature is checked again.
func (ev *evaluation) collect(sds []SignedData) {
	seen := map[string]bool{}
	for i, sd := range sds {
		id, err := ev.p.mg.DeserializeIdentity(sd.Identity)
		if err != nil {
			ev.rejected = append(ev.rejected, fmt.Sprintf("signature %d: %v", i, err))
			continue
		}
		key := id.MSPID + "\x00" + id.ID
		if seen[key] {
			ev.rejected = append(ev.rejected, fmt.Sprintf("signature %d: duplicate signer %s counted once", i, id))
			continue
		}
		if err := sd.Verify(id); err != nil {
			ev.rejected = append(ev.rejected, fmt.Sprintf("signature %d: %v", i, err))
			continue
		}
		seen[key] = true
		ev.ids = append(ev.ids, id)
	}
}

func (ev *evaluation) satisfies(signer, principal int) bool {
	k := [2]int{signer, principal}
	if ok, hit := ev.memo[k]; hit {
		return ok
	}
	ok := ev.p.mg.SatisfiesPrincipal(ev.ids[signer], ev.p.env.GetIdentities()[principal]) == nil
	ev.memo[k] = ok
	return ok
}

// eval is Fabric's algorithm: a signed_by takes the first unused signer that
// satisfies its principal; an n_out_of tries every sub-rule on a copy of the
// used flags and keeps the copy only when the sub-rule succeeds.
func (ev *evaluation) eval(r *common.SignaturePolicy, used []bool) bool {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		for i := range ev.ids {
			if !used[i] && ev.satisfies(i, int(t.SignedBy)) {
				used[i] = true
				return true
			}
		}
		return false
	case *common.SignaturePolicy_NOutOf_:
		ok, _ := ev.gate(t.NOutOf, used)
		return ok
	}
	return false
}

// gate evaluates an n_out_of and reports which sub-rules succeeded.
func (ev *evaluation) gate(g *common.SignaturePolicy_NOutOf, used []bool) (bool, []bool) {
	verified := int32(0)
	results := make([]bool, len(g.GetRules()))
	tmp := make([]bool, len(used))
	for i, sub := range g.GetRules() {
		copy(tmp, used)
		if ev.eval(sub, tmp) {
			verified++
			results[i] = true
			copy(used, tmp)
		}
	}
	return verified >= g.GetN(), results
}

// explain re-runs the top-level gate to say which sub-rules failed.
func (ev *evaluation) explain() error {
	var b strings.Builder
	b.WriteString("signature policy: ")
	ids := ev.p.env.GetIdentities()
	switch t := ev.p.env.GetRule().GetType().(type) {
	case *common.SignaturePolicy_NOutOf_:
		_, results := ev.gate(t.NOutOf, make([]bool, len(ev.ids)))
		var failed []string
		count := 0
		for i, ok := range results {
			if ok {
				count++
			} else {
				failed = append(failed, DescribeRule(t.NOutOf.GetRules()[i], ids))
			}
		}
		fmt.Fprintf(&b, "%d of %d required principals satisfied", count, t.NOutOf.GetN())
		if len(failed) > 0 {
			fmt.Fprintf(&b, "; %s not satisfied", strings.Join(failed, ", "))
		}
	default:
		fmt.Fprintf(&b, "%s not satisfied", DescribeRule(ev.p.env.GetRule(), ids))
	}
	fmt.Fprintf(&b, " (%d valid signers of %d signatures", len(ev.ids), ev.supplied)
	const maxReasons = 3
	for i, r := range ev.rejected {
		if i == maxReasons {
			fmt.Fprintf(&b, "; %d more rejected", len(ev.rejected)-maxReasons)
			break
		}
		b.WriteString("; ")
		b.WriteString(r)
	}
	b.WriteString(")")
	return errors.New(b.String())
}
