package policy

import (
	"testing"
	"time"

	"weft/msp"
	"weft/msp/msptest"
)

// world is three organisations (Org2MSP with an intermediate CA) and some
// members of each.
type world struct {
	mg      *msp.Manager
	members map[string]*msptest.Member
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{members: map[string]*msptest.Member{}}
	var msps []*msp.MSP
	for _, spec := range []struct {
		id    string
		inter bool
	}{{"Org1MSP", false}, {"Org2MSP", true}, {"Org3MSP", false}} {
		org, err := msptest.NewOrg(spec.id, spec.inter)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{msptest.OUPeer, msptest.OUClient, msptest.OUAdmin, msptest.OUOrderer} {
			mb, err := org.Role(role+"."+spec.id, role)
			if err != nil {
				t.Fatal(err)
			}
			w.members[spec.id+"."+role] = mb
		}
		mb, err := org.Role("peer1."+spec.id, msptest.OUPeer)
		if err != nil {
			t.Fatal(err)
		}
		w.members[spec.id+".peer1"] = mb
		if spec.id == "Org1MSP" {
			old, err := org.NewMember(msptest.CertOpts{CN: "old", OUs: []string{msptest.OUClient},
				NotBefore: time.Now().Add(-2 * msptest.Year), NotAfter: time.Now().Add(-msptest.Year)})
			if err != nil {
				t.Fatal(err)
			}
			w.members["Org1MSP.expired"] = old
			stranger, err := msptest.NewOrg("Org9MSP", false)
			if err != nil {
				t.Fatal(err)
			}
			if w.members["Org9MSP.peer"], err = stranger.Role("peer0.Org9MSP", msptest.OUPeer); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := org.Config()
		if err != nil {
			t.Fatal(err)
		}
		m, err := msp.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		msps = append(msps, m)
	}
	mg, err := msp.NewManager(msps...)
	if err != nil {
		t.Fatal(err)
	}
	w.mg = mg
	return w
}

var testMsg = []byte("the signed bytes")

// sign has the named members sign testMsg.
func (w *world) sign(t testing.TB, names ...string) []SignedData {
	t.Helper()
	var out []SignedData
	for _, n := range names {
		mb, ok := w.members[n]
		if !ok {
			t.Fatalf("no member %q", n)
		}
		sig, err := mb.Sign(testMsg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, SignedData{Data: testMsg, Identity: mb.Serialized, Signature: sig})
	}
	return out
}
