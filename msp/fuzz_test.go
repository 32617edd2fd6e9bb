package msp

import (
	"testing"

	"weft/msp/msptest"
	common "weft/wire/common"
)

// FuzzDeserializeIdentity feeds arbitrary bytes through deserialization,
// validation and principal checks, which must never panic.
func FuzzDeserializeIdentity(f *testing.F) {
	org, err := msptest.NewOrg("Org1MSP", true)
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := org.Config()
	if err != nil {
		f.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	mb, err := org.Role("peer0", msptest.OUPeer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mb.Serialized)
	f.Add([]byte{})
	f.Add([]byte("\x0a\x07Org1MSP\x12\x05-----"))
	principal := rolePrincipal(f, "Org1MSP", common.MSPRole_PEER)
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := m.DeserializeIdentity(data)
		if err != nil {
			return
		}
		_ = m.Validate(id)
		_ = m.SatisfiesPrincipal(id, principal)
		_, _ = m.Roles(id)
		_ = id.Verify([]byte("x"), []byte("y"))
	})
}
