package gateway

// OrgTargetAddresses lists the addresses orgTargets would try, in order.
func (g *Gateway) OrgTargetAddresses(ch Channel, mspID string) []string {
	var out []string
	for _, t := range g.orgTargets(ch, mspID) {
		out = append(out, t.address)
	}
	return out
}
