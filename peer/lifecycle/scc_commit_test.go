package lifecycle

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	lb "weft/wire/peer/lifecycle"
)

func readinessArgs(name string, seq int64, version string) *lb.CheckCommitReadinessArgs {
	return &lb.CheckCommitReadinessArgs{Name: name, Sequence: seq, Version: version}
}

func mismatchMap(r *lb.CheckCommitReadinessResult) map[string][]string {
	m := map[string][]string{}
	for org, items := range r.Mismatches {
		m[org] = items.Items
	}
	return m
}

func TestCheckCommitReadiness(t *testing.T) {
	w := newWorld(t)
	admin1, admin2 := callOpts{creator: w.admin1}, callOpts{org: 2, creator: w.admin2}
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", "p:"+strings.Repeat("1", 64)), nil)
	// Org2 approves other parameters: another version and init required.
	a2 := approveArgs("basic", 1, "2.0", "")
	a2.InitRequired = true
	w.ok(t, admin2, "ApproveChaincodeDefinitionForMyOrg", a2, nil)
	// asset: only Org1 approved.
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("asset", 1, "1.0", ""), nil)

	explicitDefaults := readinessArgs("basic", 1, "1.0")
	explicitDefaults.EndorsementPlugin, explicitDefaults.ValidationPlugin = "escc", "vscc"
	explicitDefaults.ValidationParameter = defaultPolicyBytes()
	otherPolicy := readinessArgs("basic", 1, "1.0")
	otherPolicy.ValidationParameter = refPolicyBytes(t, "/Channel/Application/Writers")

	tests := []struct {
		name         string
		o            callOpts
		in           *lb.CheckCommitReadinessArgs
		want         map[string]bool
		wantMismatch map[string][]string
		wantMsg      string
	}{
		{"org1's parameters", admin1, readinessArgs("basic", 1, "1.0"),
			map[string]bool{"Org1MSP": true, "Org2MSP": false}, map[string][]string{"Org2MSP": {"EndorsementInfo"}}, ""},
		{"defaults spelled out match", admin1, explicitDefaults,
			map[string]bool{"Org1MSP": true, "Org2MSP": false}, map[string][]string{"Org2MSP": {"EndorsementInfo"}}, ""},
		{"org2's parameters, asked on org2's peer", admin2, func() *lb.CheckCommitReadinessArgs {
			r := readinessArgs("basic", 1, "2.0")
			r.InitRequired = true
			return r
		}(), map[string]bool{"Org1MSP": false, "Org2MSP": true}, map[string][]string{"Org1MSP": {"EndorsementInfo"}}, ""},
		{"other policy matches nobody", admin1, otherPolicy,
			map[string]bool{"Org1MSP": false, "Org2MSP": false}, map[string][]string{"Org1MSP": {"ValidationInfo"}, "Org2MSP": {"EndorsementInfo", "ValidationInfo"}}, ""},
		{"one org approved", callOpts{creator: w.client1}, readinessArgs("asset", 1, "1.0"),
			map[string]bool{"Org1MSP": true, "Org2MSP": false}, map[string][]string{"Org2MSP": {"ChaincodeParameters"}}, ""},
		{"wrong sequence", admin1, readinessArgs("basic", 2, "1.0"), nil, nil, "requested sequence is 2, but new definition must be sequence 1"},
		{"empty name", admin1, readinessArgs("", 1, "1.0"), nil, nil, "name: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := w.call(t, tc.o, "CheckCommitReadiness", tc.in)
			if tc.wantMsg != "" {
				if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
					t.Fatalf("got %d %q, want %q", resp.Status, resp.Message, tc.wantMsg)
				}
				return
			}
			res := &lb.CheckCommitReadinessResult{}
			if resp.Status != 200 || proto.Unmarshal(resp.Payload, res) != nil {
				t.Fatalf("%d %q", resp.Status, resp.Message)
			}
			if !reflect.DeepEqual(res.Approvals, tc.want) {
				t.Errorf("approvals %v, want %v", res.Approvals, tc.want)
			}
			if got := mismatchMap(res); !reflect.DeepEqual(got, tc.wantMismatch) {
				t.Errorf("mismatches %v, want %v", got, tc.wantMismatch)
			}
		})
	}
}

func TestCommitAndQueryDefinition(t *testing.T) {
	w := newWorld(t)
	admin1, admin2 := callOpts{creator: w.admin1}, callOpts{org: 2, creator: w.admin2}
	pkg := "basic_1.0:" + strings.Repeat("ab", 32)
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", pkg), nil)
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", approveArgs("solo", 1, "1.0", pkg), nil)

	tests := []struct {
		name    string
		o       callOpts
		in      *lb.CommitChaincodeDefinitionArgs
		wantMsg string
	}{
		{"wrong sequence", admin1, commitArgs("basic", 3, "1.0"), "requested sequence is 3, but new definition must be sequence 1"},
		{"own org did not approve", admin2, commitArgs("basic", 1, "1.0"), "chaincode definition not agreed to by this org (Org2MSP)"},
		{"own org approved other parameters", admin1, commitArgs("basic", 1, "1.1"), "chaincode definition not agreed to by this org (Org1MSP)"},
		{"bad name", admin1, commitArgs("a b", 1, "1.0"), "invalid chaincode name"},
		{"bad version", admin1, commitArgs("basic", 1, ""), "invalid chaincode version"},
		{"committed by a client of an approving org", callOpts{creator: w.client1}, commitArgs("basic", 1, "1.0"), ""},
		// The peer commits with only its own org's approval: the channel's
		// LifecycleEndorsement policy is enforced at validation.
		{"only own org approved", admin1, commitArgs("solo", 1, "1.0"), ""},
		{"sequence already committed", admin1, commitArgs("basic", 1, "1.0"), "requested sequence is 1, but new definition must be sequence 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, sim := w.call(t, tc.o, "CommitChaincodeDefinition", tc.in)
			if tc.wantMsg == "" {
				if resp.Status != 200 {
					t.Fatalf("%d %q", resp.Status, resp.Message)
				}
				w.commit(t, sim)
				return
			}
			if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
				t.Fatalf("got %d %q, want %q", resp.Status, resp.Message, tc.wantMsg)
			}
		})
	}

	// Exported view of the definition.
	def, ok, err := Definition(w.get, "basic")
	if err != nil || !ok {
		t.Fatalf("Definition: %v %v", ok, err)
	}
	if def.Sequence != 1 || def.Version != "1.0" || def.EndorsementPolicy.GetChannelConfigPolicyReference() != DefaultEndorsementPolicyRef || def.InitRequired {
		t.Fatalf("Definition = %+v", def)
	}
	if _, ok, err := Definition(w.get, "nope"); ok || err != nil {
		t.Fatalf("Definition(nope) = %v %v", ok, err)
	}

	t.Run("QueryChaincodeDefinition", func(t *testing.T) {
		res := &lb.QueryChaincodeDefinitionResult{}
		w.ok(t, callOpts{creator: w.client1}, "QueryChaincodeDefinition", &lb.QueryChaincodeDefinitionArgs{Name: "basic"}, res)
		if res.Sequence != 1 || res.Version != "1.0" || res.EndorsementPlugin != "escc" || res.ValidationPlugin != "vscc" ||
			!bytes.Equal(res.ValidationParameter, defaultPolicyBytes()) {
			t.Fatalf("result %v", res)
		}
		if !reflect.DeepEqual(res.Approvals, map[string]bool{"Org1MSP": true, "Org2MSP": false}) {
			t.Fatalf("approvals %v", res.Approvals)
		}
	})
	t.Run("QueryChaincodeDefinition unknown", func(t *testing.T) {
		resp, _ := w.call(t, admin1, "QueryChaincodeDefinition", &lb.QueryChaincodeDefinitionArgs{Name: "nope"})
		if resp.Status != 404 || resp.Message != "namespace nope is not defined" {
			t.Fatalf("%d %q", resp.Status, resp.Message)
		}
		resp, _ = w.call(t, admin1, "QueryChaincodeDefinition", &lb.QueryChaincodeDefinitionArgs{})
		if resp.Status != 500 || !strings.Contains(resp.Message, "name: empty") {
			t.Fatalf("%d %q", resp.Status, resp.Message)
		}
	})
	t.Run("QueryChaincodeDefinitions", func(t *testing.T) {
		res := &lb.QueryChaincodeDefinitionsResult{}
		w.ok(t, admin1, "QueryChaincodeDefinitions", &lb.QueryChaincodeDefinitionsArgs{}, res)
		if len(res.ChaincodeDefinitions) != 2 || res.ChaincodeDefinitions[0].Name != "basic" || res.ChaincodeDefinitions[1].Name != "solo" {
			t.Fatalf("result %v", res)
		}
	})

	// Upgrade to sequence 2 with a signature policy.
	a := approveArgs("basic", 2, "2.0", pkg)
	a.ValidationParameter = sigPolicyBytes(t, "AND('Org1MSP.peer','Org2MSP.peer')")
	w.ok(t, admin1, "ApproveChaincodeDefinitionForMyOrg", a, nil)
	c := commitArgs("basic", 2, "2.0")
	c.ValidationParameter = a.ValidationParameter
	w.ok(t, admin1, "CommitChaincodeDefinition", c, nil)
	def, _, _ = Definition(w.get, "basic")
	if def.Sequence != 2 || def.EndorsementPolicy.GetSignaturePolicy() == nil {
		t.Fatalf("after upgrade: %+v", def)
	}
	// Re-approving the committed sequence must now carry the new parameters.
	resp, _ := w.call(t, admin2, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 2, "2.0", ""))
	if resp.Status != 500 || !strings.Contains(resp.Message, "ValidationParameter") {
		t.Fatalf("re-approval with old policy: %d %q", resp.Status, resp.Message)
	}
	a2 := approveArgs("basic", 2, "2.0", "")
	a2.ValidationParameter = a.ValidationParameter
	w.ok(t, admin2, "ApproveChaincodeDefinitionForMyOrg", a2, nil)
	res := &lb.QueryChaincodeDefinitionResult{}
	w.ok(t, admin1, "QueryChaincodeDefinition", &lb.QueryChaincodeDefinitionArgs{Name: "basic"}, res)
	if !res.Approvals["Org2MSP"] {
		t.Fatalf("approvals after re-approval: %v", res.Approvals)
	}
}
