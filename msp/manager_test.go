package msp

import (
	"testing"
	"time"

	"weft/msp/msptest"
	common "weft/wire/common"
)

func TestManager(t *testing.T) {
	org1, org2 := mustOrg(t, "Org1MSP", false), mustOrg(t, "Org2MSP", true)
	m1, m2 := mustMSP(t, org1), mustMSP(t, org2)
	if _, err := NewManager(m1, mustMSP(t, org1)); err == nil {
		t.Fatal("duplicate MSP ID accepted")
	}
	if _, err := NewManager(m1, nil); err == nil {
		t.Fatal("nil MSP accepted")
	}
	mg, err := NewManager(m1, m2)
	if err != nil {
		t.Fatal(err)
	}
	if got := mg.IDs(); len(got) != 2 || got[0] != "Org1MSP" || got[1] != "Org2MSP" {
		t.Fatalf("IDs %v", got)
	}
	if m, ok := mg.MSP("Org2MSP"); !ok || m != m2 {
		t.Fatal("MSP lookup failed")
	}
	if _, ok := mg.MSP("Org9MSP"); ok {
		t.Fatal("unknown MSP found")
	}
	peer2 := mustRole(t, org2, "peer0", msptest.OUPeer)
	expired := mustMember(t, org1, msptest.CertOpts{CN: "old", OUs: []string{msptest.OUClient},
		NotBefore: time.Now().Add(-2 * msptest.Year), NotAfter: time.Now().Add(-msptest.Year)})
	ghost, err := msptest.NewMember("Org9MSP", peer2.Cert, peer2.Key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ser  []byte
		want string
	}{
		{"routes to org2", peer2.Serialized, ""},
		{"expired is refused", expired.Serialized, "expired at"},
		{"unknown MSP", ghost.Serialized, `MSP "Org9MSP" is not known`},
		{"not a SerializedIdentity", []byte{0xff}, "serialized identity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := mg.DeserializeIdentity(tc.ser)
			checkErr(t, err, tc.want)
			if err != nil {
				return
			}
			checkErr(t, mg.SatisfiesPrincipal(id, rolePrincipal(t, "Org2MSP", common.MSPRole_PEER)), "")
			checkErr(t, mg.SatisfiesPrincipal(id, rolePrincipal(t, "Org1MSP", common.MSPRole_MEMBER)), "is not a member of Org1MSP")
		})
	}
}
