package lifecycle

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/policy"
	"weft/wire/peer"
	lb "weft/wire/peer/lifecycle"
)

func sigPolicyBytes(t testing.TB, rule string) []byte {
	t.Helper()
	env := must(policy.FromString(rule))(t)
	return must(proto.Marshal(&peer.ApplicationPolicy{Type: &peer.ApplicationPolicy_SignaturePolicy{SignaturePolicy: env}}))(t)
}

func refPolicyBytes(t testing.TB, ref string) []byte {
	t.Helper()
	return must(proto.Marshal(&peer.ApplicationPolicy{Type: &peer.ApplicationPolicy_ChannelConfigPolicyReference{ChannelConfigPolicyReference: ref}}))(t)
}

func TestApprove(t *testing.T) {
	w := newWorld(t)
	admin1, admin2 := callOpts{creator: w.admin1}, callOpts{org: 2, creator: w.admin2}
	pkgID := "basic_1.0:" + strings.Repeat("ab", 32)
	// basic is committed at sequence 1 (both orgs approved).
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", pkgID), nil)
	w.ok(t, admin2, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", ""), nil)
	w.ok(t, admin1, "CommitChaincodeDefinition", commitArgs("basic", 1, "1.0"), nil)

	with := func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs, f func(*lb.ApproveChaincodeDefinitionForMyOrgArgs)) *lb.ApproveChaincodeDefinitionForMyOrgArgs {
		f(a)
		return a
	}
	tests := []struct {
		name    string
		o       callOpts
		in      *lb.ApproveChaincodeDefinitionForMyOrgArgs
		wantMsg string // "" = success
	}{
		{"new chaincode at 1", admin1, approveArgs("asset", 1, "1.0", pkgID), ""},
		{"without a package", admin1, approveArgs("nopkg", 1, "1.0", ""), ""},
		{"next sequence", admin1, approveArgs("basic", 2, "2.0", pkgID), ""},
		{"committed sequence, other package", admin2, approveArgs("basic", 1, "1.0", pkgID), ""},
		{"signature policy", admin1, with(approveArgs("sig", 1, "1", ""), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.ValidationParameter = sigPolicyBytes(t, "OR('Org1MSP.peer','Org2MSP.peer')")
		}), ""},
		{"sequence 0", admin1, approveArgs("fresh", 0, "1.0", pkgID), "requested sequence is 0, but first definable sequence number is 1"},
		{"skips a sequence", admin1, approveArgs("fresh", 2, "1.0", pkgID), "requested sequence 2 is larger than the next available sequence number 1"},
		{"far ahead of committed", admin1, approveArgs("basic", 3, "1.0", pkgID), "requested sequence 3 is larger than the next available sequence number 2"},
		{"below committed", admin1, approveArgs("basic", 0, "1.0", pkgID), "currently defined sequence 1 is larger than requested sequence 0"},
		{"committed sequence, other params", admin1, approveArgs("basic", 1, "9.9", pkgID), "attempted to redefine the current committed sequence (1) for namespace basic with different parameters: expected Version '1.0' does not match passed Version '9.9'"},
		{"committed sequence, unchanged", admin1, approveArgs("basic", 1, "1.0", pkgID), "attempted to redefine the current committed sequence (1)"},
		{"bad name", admin1, approveArgs("-bad", 1, "1.0", pkgID), "invalid chaincode name '-bad'"},
		{"system name", admin1, approveArgs("qscc", 1, "1.0", pkgID), "is the name of a system chaincode"},
		{"bad version", admin1, approveArgs("x", 1, "1 0", pkgID), "invalid chaincode version '1 0'"},
		{"client cannot approve", callOpts{creator: w.client1}, approveArgs("y", 1, "1.0", pkgID), "not an admin of the local MSP"},
		{"other org's admin cannot approve", callOpts{creator: w.admin2}, approveArgs("y", 1, "1.0", pkgID), "not an admin"},
		{"collections", admin1, with(approveArgs("y", 1, "1.0", pkgID), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.Collections = &peer.CollectionConfigPackage{Config: []*peer.CollectionConfig{{}}}
		}), "private data collections are not supported"},
		{"garbage validation parameter", admin1, with(approveArgs("y", 1, "1.0", pkgID), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.ValidationParameter = []byte{0xff, 0xff}
		}), "validation_parameter: not a marshaled ApplicationPolicy"},
		{"unknown policy reference", admin1, with(approveArgs("y", 1, "1.0", pkgID), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.ValidationParameter = refPolicyBytes(t, "/Channel/Application/Nope")
		}), `channel config policy "/Channel/Application/Nope" does not exist`},
		{"signature policy of unknown org", admin1, with(approveArgs("y", 1, "1.0", pkgID), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.ValidationParameter = sigPolicyBytes(t, "OR('Org9MSP.peer')")
		}), ""}, // Fabric accepts principals of orgs not (yet) in the channel
		{"unsupported plugin", admin1, with(approveArgs("y2", 1, "1.0", pkgID), func(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) {
			a.EndorsementPlugin = "custom"
		}), `endorsement_plugin: "custom" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, sim := w.call(t, tc.o, "ApproveChaincodeDefinitionForMyOrg", tc.in)
			if tc.wantMsg == "" {
				if resp.Status != 200 {
					t.Fatalf("status %d: %s", resp.Status, resp.Message)
				}
				w.commit(t, sim)
				return
			}
			if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
				t.Fatalf("got %d %q, want 500 %q", resp.Status, resp.Message, tc.wantMsg)
			}
		})
	}

	// The same approval twice is refused, as Fabric does.
	resp, _ := w.call(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("asset", 1, "1.0", pkgID))
	if resp.Status != 500 || !strings.Contains(resp.Message, "attempted to redefine uncommitted sequence (1) for namespace asset with unchanged content") {
		t.Fatalf("repeat approval: %d %q", resp.Status, resp.Message)
	}
	// Changing only the package of a pending approval is allowed.
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("asset", 1, "1.0", ""), nil)

	// The stored approval has Fabric's defaults filled in.
	a := must(readApproval(w.get, "asset", 1, "Org1MSP"))(t)
	if a.EndorsementPlugin != "escc" || a.ValidationPlugin != "vscc" || !bytes.Equal(a.ValidationParameter, defaultPolicyBytes()) || a.GetSource().GetUnavailable() == nil {
		t.Fatalf("stored approval %v", a)
	}
	if id, ok, err := ApprovedPackageID(w.get, "basic", 1, "Org2MSP"); err != nil || !ok || id != pkgID {
		t.Fatalf("ApprovedPackageID(basic, 1, Org2MSP) = %q %v %v", id, ok, err)
	}
	if _, ok, err := ApprovedPackageID(w.get, "asset", 1, "Org1MSP"); err != nil || ok {
		t.Fatalf("approval without a package reported ok=%v err=%v", ok, err)
	}
	if _, ok, err := ApprovedPackageID(w.get, "asset", 1, "Org2MSP"); err != nil || ok {
		t.Fatalf("missing approval reported ok=%v err=%v", ok, err)
	}
}

func TestQueryApproved(t *testing.T) {
	w := newWorld(t)
	admin1 := callOpts{creator: w.admin1}
	pkgID := "basic_1.0:" + strings.Repeat("ab", 32)
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", pkgID), nil)
	w.ok(t, callOpts{org: 2, creator: w.admin2}, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", ""), nil)

	tests := []struct {
		name    string
		o       callOpts
		in      *lb.QueryApprovedChaincodeDefinitionArgs
		wantSeq int64
		wantMsg string
	}{
		{"explicit sequence", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic", Sequence: 1}, 1, ""},
		{"sequence 0 finds the next", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic"}, 1, ""},
		{"unknown name", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "nope"}, 0, "could not fetch approved chaincode definition (name: 'nope', sequence: '0') on channel 'mychannel'"},
		{"unknown sequence", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic", Sequence: 5}, 0, "sequence: '5'"},
		{"negative sequence", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic", Sequence: -1}, 0, "is negative"},
		{"empty name", admin1, &lb.QueryApprovedChaincodeDefinitionArgs{}, 0, "name: empty"},
		{"non-admin", callOpts{creator: w.client1}, &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic"}, 0, "not an admin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := w.call(t, tc.o, "QueryApprovedChaincodeDefinition", tc.in)
			if tc.wantMsg != "" {
				if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
					t.Fatalf("got %d %q, want %q", resp.Status, resp.Message, tc.wantMsg)
				}
				return
			}
			res := &lb.QueryApprovedChaincodeDefinitionResult{}
			if resp.Status != 200 || proto.Unmarshal(resp.Payload, res) != nil {
				t.Fatalf("%d %q", resp.Status, resp.Message)
			}
			if res.Sequence != tc.wantSeq || res.Version != "1.0" || res.GetSource().GetLocalPackage().GetPackageId() != pkgID || res.ValidationPlugin != "vscc" {
				t.Fatalf("result %v", res)
			}
		})
	}

	// After commit, sequence 0 means the committed sequence until the org
	// approves the next one.
	w.ok(t, admin1, "CommitChaincodeDefinition", commitArgs("basic", 1, "1.0"), nil)
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 2, "2.0", pkgID), nil)
	res := &lb.QueryApprovedChaincodeDefinitionResult{}
	w.ok(t, admin1, "QueryApprovedChaincodeDefinition", &lb.QueryApprovedChaincodeDefinitionArgs{Name: "basic"}, res)
	if res.Sequence != 2 || res.Version != "2.0" {
		t.Fatalf("sequence 0 after next approval: %v", res)
	}

	all := &lb.QueryApprovedChaincodeDefinitionsResult{}
	w.ok(t, admin1, "QueryApprovedChaincodeDefinitions", &lb.QueryApprovedChaincodeDefinitionsArgs{}, all)
	got := all.ApprovedChaincodeDefinitions
	if len(got) != 2 || got[0].Name != "basic" || got[0].Sequence != 1 || got[1].Sequence != 2 {
		t.Fatalf("QueryApprovedChaincodeDefinitions = %v (only Org1MSP's, ordered by sequence)", got)
	}
	resp, _ := w.call(t, callOpts{creator: w.client1}, "QueryApprovedChaincodeDefinitions", &lb.QueryApprovedChaincodeDefinitionsArgs{})
	if resp.Status != 500 {
		t.Fatalf("non-admin listed approvals: %d", resp.Status)
	}
}

func TestQueryApprovedNumericOrder(t *testing.T) {
	w := newWorld(t)
	// Sequences 1..11 approved directly in state: keys sort "10" < "2".
	b := newSim(w)
	for seq := int64(1); seq <= 11; seq++ {
		rec := must(marshalOpts.Marshal(approveArgs("cc", seq, "v", "")))(t)
		if err := b.PutState(Namespace, ApprovalKey("cc", seq, "Org1MSP"), rec); err != nil {
			t.Fatal(err)
		}
	}
	w.commit(t, b)
	all := &lb.QueryApprovedChaincodeDefinitionsResult{}
	w.ok(t, callOpts{creator: w.admin1}, "QueryApprovedChaincodeDefinitions", &lb.QueryApprovedChaincodeDefinitionsArgs{}, all)
	for i, d := range all.ApprovedChaincodeDefinitions {
		if d.Sequence != int64(i+1) {
			t.Fatalf("position %d holds sequence %d", i, d.Sequence)
		}
	}
	if len(all.ApprovedChaincodeDefinitions) != 11 {
		t.Fatalf("%d approvals", len(all.ApprovedChaincodeDefinitions))
	}
}
