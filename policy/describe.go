package policy

import (
	"fmt"
	"strings"

	"weft/msp"
	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

// DescribeRule renders a rule in DSL-like form for messages, e.g.
// "OutOf(2, Org1MSP.peer, Org2MSP.peer)".
func DescribeRule(r *common.SignaturePolicy, ids []*common.MSPPrincipal) string {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		if t.SignedBy < 0 || int(t.SignedBy) >= len(ids) {
			return fmt.Sprintf("identity #%d", t.SignedBy)
		}
		return DescribePrincipal(ids[t.SignedBy])
	case *common.SignaturePolicy_NOutOf_:
		parts := make([]string, 0, len(t.NOutOf.GetRules())+1)
		parts = append(parts, fmt.Sprint(t.NOutOf.GetN()))
		for _, sub := range t.NOutOf.GetRules() {
			parts = append(parts, DescribeRule(sub, ids))
		}
		return "OutOf(" + strings.Join(parts, ", ") + ")"
	}
	return "<empty rule>"
}

// DescribePrincipal renders a principal for messages, e.g. "Org1MSP.admin".
func DescribePrincipal(p *common.MSPPrincipal) string {
	switch p.GetPrincipalClassification() {
	case common.MSPPrincipal_ROLE:
		var r common.MSPRole
		if proto.Unmarshal(p.GetPrincipal(), &r) == nil {
			return r.GetMspIdentifier() + "." + strings.ToLower(r.GetRole().String())
		}
	case common.MSPPrincipal_ORGANIZATION_UNIT:
		var ou common.OrganizationUnit
		if proto.Unmarshal(p.GetPrincipal(), &ou) == nil {
			return fmt.Sprintf("%s OU %q", ou.GetMspIdentifier(), ou.GetOrganizationalUnitIdentifier())
		}
	case common.MSPPrincipal_IDENTITY:
		if mspID, cert, err := msp.ParseSerialized(p.GetPrincipal()); err == nil {
			return fmt.Sprintf("%s identity %q", mspID, cert.Subject.CommonName)
		}
	case common.MSPPrincipal_COMBINED:
		var c common.CombinedPrincipal
		if proto.Unmarshal(p.GetPrincipal(), &c) == nil {
			parts := make([]string, len(c.GetPrincipals()))
			for i, sub := range c.GetPrincipals() {
				parts[i] = DescribePrincipal(sub)
			}
			return "all of [" + strings.Join(parts, ", ") + "]"
		}
	case common.MSPPrincipal_ANONYMITY:
		var a common.MSPIdentityAnonymity
		if proto.Unmarshal(p.GetPrincipal(), &a) == nil {
			return "anonymity " + strings.ToLower(a.GetAnonymityType().String())
		}
	}
	return fmt.Sprintf("principal (classification %d)", int32(p.GetPrincipalClassification()))
}
