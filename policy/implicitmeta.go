package policy

import (
	"errors"
	"fmt"
	"strings"

	common "weft/wire/common"
)

// ImplicitMetaFromString parses "RULE SubPolicy", e.g. "MAJORITY Admins".
func ImplicitMetaFromString(s string) (*common.ImplicitMetaPolicy, error) {
	args := strings.Split(s, " ")
	if len(args) != 2 {
		return nil, fmt.Errorf("implicit meta policy %q: expected two space-separated tokens (RULE SubPolicy), got %d", s, len(args))
	}
	rule, ok := common.ImplicitMetaPolicy_Rule_value[args[0]]
	if !ok {
		return nil, fmt.Errorf("implicit meta policy %q: unknown rule %q, want ANY, ALL or MAJORITY", s, args[0])
	}
	if args[1] == "" {
		return nil, fmt.Errorf("implicit meta policy %q: sub-policy name is empty", s)
	}
	return &common.ImplicitMetaPolicy{Rule: common.ImplicitMetaPolicy_Rule(rule), SubPolicy: args[1]}, nil
}

type implicitChild struct {
	name   string
	policy Policy // nil when the child group lacks the sub-policy
}

type implicitMeta struct {
	def       *common.ImplicitMetaPolicy
	threshold int
	children  []implicitChild
}

// newImplicitMeta evaluates def over the given child groups (in a fixed
// order). Zero children means a threshold of zero: always satisfied.
func newImplicitMeta(def *common.ImplicitMetaPolicy, children []implicitChild) (*implicitMeta, error) {
	if def.GetSubPolicy() == "" {
		return nil, errors.New("implicit meta policy: sub_policy is empty")
	}
	n := len(children)
	var threshold int
	switch def.GetRule() {
	case common.ImplicitMetaPolicy_ANY:
		threshold = 1
	case common.ImplicitMetaPolicy_ALL:
		threshold = n
	case common.ImplicitMetaPolicy_MAJORITY:
		threshold = n/2 + 1
	default:
		// Fabric silently treats an unknown rule as threshold 0 (always
		// satisfied); refusing it is the safe reading.
		return nil, fmt.Errorf("implicit meta policy: unknown rule %d, want ANY(0), ALL(1) or MAJORITY(2)", int32(def.GetRule()))
	}
	if n == 0 {
		threshold = 0
	}
	return &implicitMeta{def: def, threshold: threshold, children: children}, nil
}

func (p *implicitMeta) EvaluateSignedData(sds []SignedData) error {
	remaining := p.threshold
	if remaining == 0 {
		return nil
	}
	// Every child looks at the same signatures; each is verified once.
	sds = withSharedMemo(sds)
	var failures []string
	for _, c := range p.children {
		if c.policy == nil {
			failures = append(failures, fmt.Sprintf("%s: no policy %q", c.name, p.def.GetSubPolicy()))
			continue
		}
		err := c.policy.EvaluateSignedData(sds)
		if err == nil {
			remaining--
			if remaining == 0 {
				return nil
			}
			continue
		}
		failures = append(failures, fmt.Sprintf("%s: %v", c.name, err))
	}
	return fmt.Errorf("implicit meta policy %s %s: %d of %d required sub-policies satisfied (%d groups); %s",
		p.def.GetRule(), p.def.GetSubPolicy(), p.threshold-remaining, p.threshold, len(p.children), strings.Join(failures, "; "))
}
