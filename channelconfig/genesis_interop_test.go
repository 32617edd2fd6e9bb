package channelconfig

import "testing"

// The update side's Bundle must accept what the construction side builds.
func TestGenesisConfigLoadsAsBundle(t *testing.T) {
	for _, caps := range [][]string{{"V2_0"}, {"V3_0"}} {
		p := btProfile(t)
		p.Capabilities = caps
		if caps[0] == "V3_0" {
			p.Orderer.Addresses = nil
		}
		block, err := GenesisBlock("mychannel", btMustBuild(t, p))
		if err != nil {
			t.Fatal(err)
		}
		ce, id, err := ConfigFromBlock(block)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewBundle(id, ce.GetConfig())
		if err != nil {
			t.Fatalf("%v: NewBundle: %v", caps, err)
		}
		if got := len(b.ApplicationOrgs()); got != 2 {
			t.Errorf("%v: %d application orgs", caps, got)
		}
		if got := len(b.EtcdRaftConsenters()); got != 3 {
			t.Errorf("%v: %d consenters", caps, got)
		}
		if b.ConsensusType() != OrdererTypeEtcdRaft {
			t.Errorf("%v: consensus type %q", caps, b.ConsensusType())
		}
	}
}
