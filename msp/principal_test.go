package msp

import (
	"testing"

	"weft/msp/msptest"
	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

func rolePrincipal(t testing.TB, mspID string, r common.MSPRole_MSPRoleType) *common.MSPPrincipal {
	t.Helper()
	b, err := proto.Marshal(&common.MSPRole{MspIdentifier: mspID, Role: r})
	if err != nil {
		t.Fatal(err)
	}
	return &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_ROLE, Principal: b}
}

func marshalPrincipal(t testing.TB, c common.MSPPrincipal_Classification, m proto.Message) *common.MSPPrincipal {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return &common.MSPPrincipal{PrincipalClassification: c, Principal: b}
}

func TestSatisfiesPrincipal(t *testing.T) {
	org1 := mustOrg(t, "Org1MSP", false)
	listedAdmin := mustRole(t, org1, "listed-admin", msptest.OUClient)
	org1.Admins = [][]byte{listedAdmin.PEM}
	m1 := mustMSP(t, org1)

	plain := mustOrg(t, "PlainMSP", false)
	plain.NodeOUs = false
	plainAdmin := mustMember(t, plain, msptest.CertOpts{CN: "admin"})
	plain.Admins = [][]byte{plainAdmin.PEM}
	mp := mustMSP(t, plain)
	plainUser := mustMember(t, plain, msptest.CertOpts{CN: "user"})

	peer := mustRole(t, org1, "peer0", msptest.OUPeer)
	client := mustRole(t, org1, "user1", msptest.OUClient)
	ouAdmin := mustRole(t, org1, "Admin", msptest.OUAdmin)
	orderer := mustRole(t, org1, "orderer0", msptest.OUOrderer)

	const (
		member   = common.MSPRole_MEMBER
		admin    = common.MSPRole_ADMIN
		cli      = common.MSPRole_CLIENT
		peerR    = common.MSPRole_PEER
		ordererR = common.MSPRole_ORDERER
	)
	rp := func(r common.MSPRole_MSPRoleType) *common.MSPPrincipal { return rolePrincipal(t, "Org1MSP", r) }
	// The certifiers identifier of an org1 member is the hash of the root.
	rootID := chainID(m1.roots)
	ouPrincipal := func(ou string, cid []byte) *common.MSPPrincipal {
		return marshalPrincipal(t, common.MSPPrincipal_ORGANIZATION_UNIT, &common.OrganizationUnit{MspIdentifier: "Org1MSP", OrganizationalUnitIdentifier: ou, CertifiersIdentifier: cid})
	}
	combined := func(ps ...*common.MSPPrincipal) *common.MSPPrincipal {
		return marshalPrincipal(t, common.MSPPrincipal_COMBINED, &common.CombinedPrincipal{Principals: ps})
	}
	anon := func(a common.MSPIdentityAnonymity_MSPIdentityAnonymityType) *common.MSPPrincipal {
		return marshalPrincipal(t, common.MSPPrincipal_ANONYMITY, &common.MSPIdentityAnonymity{AnonymityType: a})
	}

	tests := []struct {
		name   string
		m      *MSP
		member *msptest.Member
		p      *common.MSPPrincipal
		want   string
	}{
		{"peer is member", m1, peer, rp(member), ""},
		{"peer is peer", m1, peer, rp(peerR), ""},
		{"peer is not client", m1, peer, rp(cli), "does not have the client role"},
		{"client is client", m1, client, rp(cli), ""},
		{"client is not peer", m1, client, rp(peerR), "does not have the peer role"},
		{"client is not admin", m1, client, rp(admin), "is not an admin"},
		{"admin OU is admin", m1, ouAdmin, rp(admin), ""},
		{"admin OU is not client", m1, ouAdmin, rp(cli), "does not have the client role"},
		{"listed admin is admin", m1, listedAdmin, rp(admin), ""},
		{"orderer is orderer", m1, orderer, rp(ordererR), ""},
		{"peer is not orderer", m1, peer, rp(ordererR), "does not have the orderer role"},
		{"other MSP role", m1, peer, rolePrincipal(t, "Org2MSP", member), "is not a member of Org2MSP"},
		{"unknown role type", m1, peer, rolePrincipal(t, "Org1MSP", 9), "role type 9 is not supported"},
		{"identity match", m1, peer, &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_IDENTITY, Principal: peer.Serialized}, ""},
		{"identity mismatch", m1, client, &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_IDENTITY, Principal: peer.Serialized}, "is not the identity"},
		{"OU match", m1, peer, ouPrincipal(msptest.OUPeer, rootID), ""},
		{"OU wrong certifiers", m1, peer, ouPrincipal(msptest.OUPeer, []byte("nope")), "does not carry OU"},
		{"OU not carried", m1, client, ouPrincipal(msptest.OUPeer, rootID), "does not carry OU"},
		{"combined all satisfied", m1, peer, combined(rp(member), rp(peerR)), ""},
		{"combined one fails", m1, peer, combined(rp(member), rp(cli)), "does not have the client role"},
		{"combined empty", m1, peer, combined(), "no principals"},
		{"anonymity nominal", m1, peer, anon(common.MSPIdentityAnonymity_NOMINAL), ""},
		{"anonymity anonymous", m1, peer, anon(common.MSPIdentityAnonymity_ANONYMOUS), "anonymous"},
		{"garbage role bytes", m1, peer, &common.MSPPrincipal{Principal: []byte{0xff}}, "role principal"},
		{"nil principal", m1, peer, nil, "principal is nil"},
		{"unknown classification", m1, peer, &common.MSPPrincipal{PrincipalClassification: 42}, "classification 42"},
		{"no NodeOUs: admin listed", mp, plainAdmin, rolePrincipal(t, "PlainMSP", admin), ""},
		{"no NodeOUs: user not admin", mp, plainUser, rolePrincipal(t, "PlainMSP", admin), "not in the admins list"},
		{"no NodeOUs: member", mp, plainUser, rolePrincipal(t, "PlainMSP", member), ""},
		{"no NodeOUs: cannot tell peer", mp, plainUser, rolePrincipal(t, "PlainMSP", peerR), "NodeOUs are not enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.m.DeserializeIdentity(tc.member.Serialized)
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, tc.m.SatisfiesPrincipal(id, tc.p), tc.want)
		})
	}
}

func TestRoles(t *testing.T) {
	org := mustOrg(t, "Org1MSP", false)
	listed := mustRole(t, org, "listed", msptest.OUClient)
	org.Admins = [][]byte{listed.PEM}
	m := mustMSP(t, org)
	for _, tc := range []struct {
		name   string
		member *msptest.Member
		want   []Role
		err    string
	}{
		{"peer", mustRole(t, org, "p", msptest.OUPeer), []Role{RoleMember, RolePeer}, ""},
		{"listed client admin", listed, []Role{RoleMember, RoleClient, RoleAdmin}, ""},
		{"invalid", mustMember(t, org, msptest.CertOpts{CN: "x"}), nil, "no NodeOU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := m.DeserializeIdentity(tc.member.Serialized)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Roles(id)
			checkErr(t, err, tc.err)
			if len(got) != len(tc.want) {
				t.Fatalf("roles %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("roles %v, want %v", got, tc.want)
				}
			}
		})
	}
}
