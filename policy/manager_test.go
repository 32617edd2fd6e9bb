package policy

import (
	"strings"
	"testing"

	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

func sigPolicy(t *testing.T, dsl string) *common.ConfigPolicy {
	t.Helper()
	env, err := FromString(dsl)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return &common.ConfigPolicy{Policy: &common.Policy{Type: int32(common.Policy_SIGNATURE), Value: raw}}
}

func metaPolicy(t *testing.T, s string) *common.ConfigPolicy {
	t.Helper()
	def, err := ImplicitMetaFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	return &common.ConfigPolicy{Policy: &common.Policy{Type: int32(common.Policy_IMPLICIT_META), Value: raw}}
}

func orgGroup(t *testing.T, id string) *common.ConfigGroup {
	return &common.ConfigGroup{Policies: map[string]*common.ConfigPolicy{
		"Readers":     sigPolicy(t, "OR('"+id+".member')"),
		"Admins":      sigPolicy(t, "OR('"+id+".admin')"),
		"Endorsement": sigPolicy(t, "OR('"+id+".peer')"),
	}}
}

// channelTree is a channel config with three application orgs and an
// orderer group without org children.
func channelTree(t *testing.T) *common.ConfigGroup {
	return &common.ConfigGroup{
		Groups: map[string]*common.ConfigGroup{
			"Application": {
				Groups: map[string]*common.ConfigGroup{
					"Org1MSP": orgGroup(t, "Org1MSP"),
					"Org2MSP": orgGroup(t, "Org2MSP"),
					"Org3MSP": orgGroup(t, "Org3MSP"),
				},
				Policies: map[string]*common.ConfigPolicy{
					"Readers":     metaPolicy(t, "ANY Readers"),
					"Admins":      metaPolicy(t, "MAJORITY Admins"),
					"AllAdmins":   metaPolicy(t, "ALL Admins"),
					"Endorsement": metaPolicy(t, "MAJORITY Endorsement"),
					"Missing":     metaPolicy(t, "ANY NoSuchPolicy"),
				},
			},
			"Orderer": {Policies: map[string]*common.ConfigPolicy{
				"Admins": metaPolicy(t, "MAJORITY Admins"),
			}},
		},
		Policies: map[string]*common.ConfigPolicy{
			"Readers": metaPolicy(t, "ANY Readers"),
			"Admins":  metaPolicy(t, "MAJORITY Admins"),
		},
	}
}

func TestManagerEvaluation(t *testing.T) {
	w := newWorld(t)
	m, err := NewManager(channelTree(t), w.mg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		signers []string
		want    string
	}{
		{"/Channel/Application/Admins", []string{"Org1MSP.admin", "Org3MSP.admin"}, ""},
		{"/Channel/Application/Admins", []string{"Org1MSP.admin"},
			"policy /Channel/Application/Admins: implicit meta policy MAJORITY Admins: 1 of 2 required sub-policies satisfied (3 groups)"},
		{"/Channel/Application/Admins", []string{"Org1MSP.admin", "Org2MSP.peer"}, "Org2MSP: policy /Channel/Application/Org2MSP/Admins: signature policy: 0 of 1"},
		{"/Channel/Application/AllAdmins", []string{"Org1MSP.admin", "Org2MSP.admin"}, "2 of 3 required"},
		{"/Channel/Application/AllAdmins", []string{"Org1MSP.admin", "Org2MSP.admin", "Org3MSP.admin"}, ""},
		{"/Channel/Application/Readers", []string{"Org3MSP.client"}, ""},
		{"/Channel/Application/Readers", nil, "0 of 1 required sub-policies"},
		{"/Channel/Application/Endorsement", []string{"Org2MSP.peer", "Org3MSP.peer"}, ""},
		{"/Channel/Application/Endorsement", []string{"Org2MSP.peer", "Org3MSP.client"}, "1 of 2 required"},
		{"/Channel/Application/Missing", []string{"Org1MSP.admin"}, `Org1MSP: no policy "NoSuchPolicy"`},
		// Zero child groups: threshold 0, satisfied by nobody.
		{"/Channel/Orderer/Admins", nil, ""},
		// Channel Admins = MAJORITY of {Application, Orderer}; Orderer's is
		// vacuous, so Application's majority is still needed.
		{"/Channel/Admins", []string{"Org1MSP.admin"}, "1 of 2 required"},
		{"/Channel/Admins", []string{"Org1MSP.admin", "Org2MSP.admin"}, ""},
		{"/Channel/Application/Org2MSP/Endorsement", []string{"Org2MSP.peer"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path+"/"+strings.Join(tc.signers, "+"), func(t *testing.T) {
			p, ok := m.Policy(tc.path)
			if !ok {
				t.Fatalf("policy %s not found", tc.path)
			}
			err := p.EvaluateSignedData(w.sign(t, tc.signers...))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("not satisfied: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("satisfied, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestManagerResolution(t *testing.T) {
	w := newWorld(t)
	m, err := NewManager(channelTree(t), w.mg)
	if err != nil {
		t.Fatal(err)
	}
	org1Admin := w.sign(t, "Org1MSP.admin")
	org2Admin := w.sign(t, "Org2MSP.admin")
	tests := []struct {
		name  string
		get   func() (Policy, bool)
		found bool
		// org1Only: the policy accepts Org1's admin alone but not Org2's,
		// which identifies /Channel/Application/Org1MSP/Admins.
		org1Only bool
	}{
		{"absolute", func() (Policy, bool) { return m.Policy("/Channel/Application/Org1MSP/Admins") }, true, true},
		{"relative to root", func() (Policy, bool) { return m.Policy("Application/Org1MSP/Admins") }, true, true},
		{"wrong root", func() (Policy, bool) { return m.Policy("/Other/Application/Admins") }, false, false},
		{"unknown group", func() (Policy, bool) { return m.Policy("/Channel/Nope/Admins") }, false, false},
		{"unknown policy", func() (Policy, bool) { return m.Policy("/Channel/Application/Nope") }, false, false},
		{"empty", func() (Policy, bool) { return m.Policy("") }, false, false},
		{"trailing slash", func() (Policy, bool) { return m.Policy("/Channel/Application/") }, false, false},
		{"relative to org group", func() (Policy, bool) { return m.PolicyFor([]string{"Channel", "Application", "Org1MSP"}, "Admins") }, true, true},
		{"group path without Channel", func() (Policy, bool) { return m.PolicyFor([]string{"Application", "Org1MSP"}, "Admins") }, true, true},
		{"relative with sub-group", func() (Policy, bool) { return m.PolicyFor([]string{"Channel", "Application"}, "Org1MSP/Admins") }, true, true},
		{"absolute via PolicyFor", func() (Policy, bool) {
			return m.PolicyFor([]string{"Channel", "Orderer"}, "/Channel/Application/Org1MSP/Admins")
		}, true, true},
		{"group-level policy", func() (Policy, bool) { return m.PolicyFor([]string{"Channel", "Application"}, "Admins") }, true, false},
		{"unknown group path", func() (Policy, bool) { return m.PolicyFor([]string{"Channel", "Nope"}, "Admins") }, false, false},
		{"empty name", func() (Policy, bool) { return m.PolicyFor([]string{"Channel"}, "") }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := tc.get()
			if ok != tc.found || (p != nil) != tc.found {
				t.Fatalf("found=%v (policy %v), want %v", ok, p, tc.found)
			}
			if !ok {
				return
			}
			e1, e2 := p.EvaluateSignedData(org1Admin), p.EvaluateSignedData(org2Admin)
			if tc.org1Only && (e1 != nil || e2 == nil) {
				t.Fatalf("not the Org1MSP Admins policy: org1 admin err=%v, org2 admin err=%v", e1, e2)
			}
			if !tc.org1Only && e1 == nil && e2 != nil {
				t.Fatal("unexpectedly resolved to the Org1MSP Admins policy")
			}
		})
	}
	var nilMgr *Manager
	if _, ok := nilMgr.Policy("/Channel/Admins"); ok {
		t.Fatal("nil manager found a policy")
	}
}

func TestNewManagerErrors(t *testing.T) {
	w := newWorld(t)
	withPolicy := func(cp *common.ConfigPolicy) *common.ConfigGroup {
		root := channelTree(t)
		root.Groups["Application"].Groups["Org1MSP"].Policies["Bad"] = cp
		return root
	}
	badMeta := metaPolicy(t, "ANY Readers")
	badMeta.Policy.Value = mustMarshal(t, &common.ImplicitMetaPolicy{SubPolicy: "Readers", Rule: 7})
	for _, tc := range []struct {
		name string
		root *common.ConfigGroup
		want string
	}{
		{"nil root", nil, "root config group is nil"},
		{"MSP type", withPolicy(&common.ConfigPolicy{Policy: &common.Policy{Type: int32(common.Policy_MSP)}}),
			"policy /Channel/Application/Org1MSP/Bad: unsupported policy type 2"},
		{"unknown type", withPolicy(&common.ConfigPolicy{Policy: &common.Policy{Type: 42}}), "unsupported policy type 42"},
		{"nil policy", withPolicy(&common.ConfigPolicy{}), "policy /Channel/Application/Org1MSP/Bad: policy is nil"},
		{"garbage envelope", withPolicy(&common.ConfigPolicy{Policy: &common.Policy{Type: 1, Value: []byte{0xff}}}), "unmarshal SignaturePolicyEnvelope"},
		{"index out of range", withPolicy(&common.ConfigPolicy{Policy: &common.Policy{Type: 1, Value: mustMarshal(t, &common.SignaturePolicyEnvelope{Rule: sb(3)})}}),
			"signed_by 3 is out of range"},
		{"unknown meta rule", withPolicy(badMeta), "unknown rule 7"},
		{"nil child group", &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{"Application": nil}}, "group /Channel/Application is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewManager(tc.root, w.mg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewManager(channelTree(t), nil); err == nil {
		t.Fatal("nil msp manager accepted")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
