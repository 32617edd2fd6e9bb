package lifecycle

import (
	"strings"
	"testing"

	"weft/channelconfig"
	"weft/msp/msptest"
	"weft/policy"
	"weft/wire/ledger/rwset/kvrwset"
	lb "weft/wire/peer/lifecycle"
)

func endorsements(t testing.TB, msg []byte, ms ...*msptest.Member) []policy.SignedData {
	t.Helper()
	var out []policy.SignedData
	for _, m := range ms {
		out = append(out, policy.SignedData{Data: msg, Identity: m.Serialized, Signature: must(m.Sign(msg))(t)})
	}
	return out
}

func writesTo(keys ...string) *kvrwset.KVRWSet {
	kv := &kvrwset.KVRWSet{}
	for _, k := range keys {
		kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: k, Value: []byte("v")})
	}
	return kv
}

// putDefinition commits a definition of name with validation parameter vp.
func (w *world) putDefinition(t testing.TB, name string, vp []byte) {
	t.Helper()
	sim := newSim(w)
	def := &lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{Name: name, Sequence: 1, Version: "1", EndorsementPlugin: "escc", ValidationPlugin: "vscc", ValidationParameter: vp}
	if err := sim.PutState(Namespace, DefinitionKey(name), must(marshalOpts.Marshal(def))(t)); err != nil {
		t.Fatal(err)
	}
	w.commit(t, sim)
}

func TestPolicyChecker(t *testing.T) {
	w := newWorld(t)
	w.putDefinition(t, "basic", defaultPolicyBytes())
	w.putDefinition(t, "org2only", sigPolicyBytes(t, "OR('Org2MSP.peer')"))
	w.putDefinition(t, "writers", refPolicyBytes(t, "/Channel/Application/Writers"))
	w.putDefinition(t, "dangling", refPolicyBytes(t, "/Channel/Application/Gone"))
	w.putDefinition(t, "garbage", []byte{0xff, 0xff})
	pc := NewPolicyChecker(w.get, w.bundle)
	msg := []byte("proposal response payload")
	tampered := endorsements(t, msg, w.peer1, w.peer2)
	tampered[1].Data = []byte("something else")

	approval1 := writesTo(ApprovalKey("basic", 2, "Org1MSP"))
	tests := []struct {
		name    string
		ns      string
		writes  *kvrwset.KVRWSet
		sd      []policy.SignedData
		wantErr string
	}{
		{"approval endorsed by own peer", Namespace, approval1, endorsements(t, msg, w.peer1), ""},
		{"approval endorsed by the wrong org", Namespace, approval1, endorsements(t, msg, w.peer2), "approval by Org1MSP must be endorsed by that org"},
		{"approval endorsed by own client", Namespace, approval1, endorsements(t, msg, w.client1), "approval by Org1MSP"},
		{"approval of an org not in the channel", Namespace, writesTo(ApprovalKey("basic", 1, "Org9MSP")), endorsements(t, msg, w.peer1), "no org found in channel"},
		{"approvals of two orgs need both", Namespace, writesTo(ApprovalKey("a", 1, "Org1MSP"), ApprovalKey("a", 1, "Org2MSP")), endorsements(t, msg, w.peer1), "approval by Org2MSP"},
		{"approvals of two orgs endorsed by both", Namespace, writesTo(ApprovalKey("a", 1, "Org1MSP"), ApprovalKey("a", 1, "Org2MSP")), endorsements(t, msg, w.peer1, w.peer2), ""},
		{"definition without majority", Namespace, writesTo(DefinitionKey("basic")), endorsements(t, msg, w.peer1), "chaincode definition changes need /Channel/Application/LifecycleEndorsement"},
		{"definition with majority", Namespace, writesTo(DefinitionKey("basic")), endorsements(t, msg, w.peer1, w.peer2), ""},
		{"definition and approval need both rules", Namespace, writesTo(DefinitionKey("basic"), ApprovalKey("basic", 2, "Org1MSP")), endorsements(t, msg, w.peer2), "approval by Org1MSP"},
		{"no writes need lifecycle endorsement", Namespace, nil, endorsements(t, msg, w.peer1), "LifecycleEndorsement"},
		{"tampered endorsement does not count", Namespace, writesTo(DefinitionKey("basic")), tampered, "LifecycleEndorsement"},
		{"metadata write counts as a write", Namespace, &kvrwset.KVRWSet{MetadataWrites: []*kvrwset.KVMetadataWrite{{Key: DefinitionKey("x")}}}, endorsements(t, msg, w.peer1), "LifecycleEndorsement"},
		{"default channel policy satisfied", "basic", writesTo("k"), endorsements(t, msg, w.peer1, w.peer2), ""},
		{"default channel policy needs majority", "basic", writesTo("k"), endorsements(t, msg, w.peer2), `endorsement policy of chaincode "basic" (/Channel/Application/Endorsement) not satisfied`},
		{"signature policy satisfied", "org2only", writesTo("k"), endorsements(t, msg, w.peer2), ""},
		{"signature policy by the wrong org", "org2only", writesTo("k"), endorsements(t, msg, w.peer1), `endorsement policy of chaincode "org2only"`},
		{"signature policy needs a peer", "org2only", writesTo("k"), endorsements(t, msg, w.admin2), `endorsement policy of chaincode "org2only"`},
		{"channel policy reference", "writers", writesTo("k"), endorsements(t, msg, w.client1), ""},
		{"channel policy reference not satisfied", "writers", writesTo("k"), endorsements(t, msg, w.peer1), "/Channel/Application/Writers"},
		{"no endorsements", "basic", writesTo("k"), nil, "not satisfied"},
		{"undefined chaincode", "nope", writesTo("k"), endorsements(t, msg, w.peer1, w.peer2), `chaincode "nope" is not defined on channel "mychannel"`},
		{"dangling policy reference", "dangling", writesTo("k"), endorsements(t, msg, w.peer1, w.peer2), `channel config policy "/Channel/Application/Gone" does not exist`},
		{"undecodable definition policy", "garbage", writesTo("k"), endorsements(t, msg, w.peer1, w.peer2), "not an ApplicationPolicy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pc.CheckEndorsement(tc.ns, tc.writes, tc.sd)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if err := NewPolicyChecker(w.get, nil).CheckEndorsement("basic", nil, nil); err == nil {
		t.Fatal("checker without a bundle accepted")
	}
}

// On a channel without LifecycleEndorsement and org Endorsement policies the
// checker falls back to Fabric's defaults: a majority of org members for
// definitions, a peer of the org for approvals.
func TestPolicyCheckerFallbacks(t *testing.T) {
	w := newWorld(t)
	org3 := must(msptest.NewOrg("Org3MSP", false))(t)
	peer3 := newMember(t, org3, "peer0.org3", msptest.OUPeer)
	b := newBundleWith(t, channelconfig.DefaultApplicationCapabilities(), true, w.org1, w.org2, org3)
	if _, ok := b.PolicyManager().Policy(LifecycleEndorsementPolicyRef); ok {
		t.Fatal("fixture still has LifecycleEndorsement")
	}
	pc := NewPolicyChecker(w.get, b)
	msg := []byte("m")
	tests := []struct {
		name    string
		writes  *kvrwset.KVRWSet
		sd      []policy.SignedData
		wantErr string
	}{
		{"definition by 2 of 3 orgs", writesTo(DefinitionKey("x")), endorsements(t, msg, w.peer1, peer3), ""},
		{"definition by 1 of 3 orgs", writesTo(DefinitionKey("x")), endorsements(t, msg, w.peer1), "2 of the members of [Org1MSP Org2MSP Org3MSP]"},
		{"approval by own peer", writesTo(ApprovalKey("x", 1, "Org3MSP")), endorsements(t, msg, peer3), ""},
		{"approval by own admin is not a peer", writesTo(ApprovalKey("x", 1, "Org1MSP")), endorsements(t, msg, w.admin1), "a peer of Org1MSP"},
		{"approval by another org's peer", writesTo(ApprovalKey("x", 1, "Org1MSP")), endorsements(t, msg, w.peer2), "a peer of Org1MSP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pc.CheckEndorsement(Namespace, tc.writes, tc.sd)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestApprovalKeys(t *testing.T) {
	tests := []struct {
		key  string
		ok   bool
		name string
		seq  int64
		msp  string
	}{
		{ApprovalKey("cc", 12, "Org1MSP"), true, "cc", 12, "Org1MSP"},
		{"approvals/cc/1/Org/With/Slash", true, "cc", 1, "Org/With/Slash"},
		{"approvals/cc/0/Org1MSP", false, "", 0, ""},
		{"approvals/cc/01/Org1MSP", false, "", 0, ""},
		{"approvals/cc/x/Org1MSP", false, "", 0, ""},
		{"approvals/cc/1/", false, "", 0, ""},
		{"approvals//1/Org1MSP", false, "", 0, ""},
		{"definitions/cc", false, "", 0, ""},
	}
	for _, tc := range tests {
		name, seq, msp, ok := parseApprovalKey(tc.key)
		if ok != tc.ok || name != tc.name || seq != tc.seq || msp != tc.msp {
			t.Errorf("%q: got %q %d %q %v", tc.key, name, seq, msp, ok)
		}
	}
}
