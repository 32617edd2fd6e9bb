package operator

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

func TestSetOrgMembership(t *testing.T) {
	n := spec.Default()
	n.Orgs = append(n.Orgs, spec.Org{Name: "Org3", Domain: "org3.example.com", Peers: 1})
	n.Channels[0].Orgs = []string{"Org1", "Org2", "Org3"}
	n.SetDefaults()
	cases := []struct {
		name    string
		members map[string][]string
		org     string
		want    bool
		msg     string
	}{
		{name: "member", members: map[string][]string{"mychannel": {"Org1MSP", "Org2MSP", "Org3MSP"}}, org: "Org3", want: true, msg: "in the config of mychannel"},
		{name: "missing from the config", members: map[string][]string{"mychannel": {"Org1MSP", "Org2MSP"}}, org: "Org3", msg: "not in the config of mychannel"},
		{name: "channel not read", members: map[string][]string{}, org: "Org1", msg: "not read yet: mychannel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st v1alpha1.NetworkStatus
			st.Orgs = components(nil, []string{"Org1", "Org2", "Org3"})
			setOrgMembership(&st, n, c.members, 7)
			cond := meta.FindStatusCondition(*component(st.Orgs, c.org), ConditionInChannels)
			if cond == nil {
				t.Fatal("no condition")
			}
			if (cond.Status == "True") != c.want || !strings.Contains(cond.Message, c.msg) || cond.ObservedGeneration != 7 {
				t.Fatalf("condition %+v, want ok=%v message %q", cond, c.want, c.msg)
			}
		})
	}
}
