package policy

import (
	"strings"
	"testing"

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

// Literal constructors, independent of the package's SignedBy/NOutOf.
func sb(i int32) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: i}}
}

func nout(n int32, rules ...*common.SignaturePolicy) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: n, Rules: rules}}}
}

type pr struct {
	msp  string
	role common.MSPRole_MSPRoleType
}

const (
	member  = common.MSPRole_MEMBER
	admin   = common.MSPRole_ADMIN
	client  = common.MSPRole_CLIENT
	peer    = common.MSPRole_PEER
	orderer = common.MSPRole_ORDERER
)

var dslValid = []struct {
	in   string
	ids  []pr
	rule *common.SignaturePolicy
}{
	{"OutOf(1, 'A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(1, sb(0), sb(1))},
	{"OutOf(2, 'A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(2, sb(0), sb(1))},
	{"AND('A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(2, sb(0), sb(1))},
	{"AND('A.client', 'B.peer')", []pr{{"A", client}, {"B", peer}}, nout(2, sb(0), sb(1))},
	{"OR('A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(1, sb(0), sb(1))},
	// Nested gates number their principals before the enclosing gate's.
	{"OR('A.member', AND('B.member', 'C.member'))", []pr{{"B", member}, {"C", member}, {"A", member}}, nout(1, sb(2), nout(2, sb(0), sb(1)))},
	{"OR(AND('A.member', 'B.member'), OR('C.admin', 'D.member'))", []pr{{"A", member}, {"B", member}, {"C", admin}, {"D", member}}, nout(1, nout(2, sb(0), sb(1)), nout(1, sb(2), sb(3)))},
	{"OutOf(2, 'A.peer', AND('B.peer', OR('C.peer', 'D.peer')), 'E.peer')", []pr{{"C", peer}, {"D", peer}, {"B", peer}, {"A", peer}, {"E", peer}},
		nout(2, sb(3), nout(2, sb(2), nout(1, sb(0), sb(1))), sb(4))},
	{"OR('MSP.member', 'MSP.WITH.DOTS.member', 'MSP-WITH-DASHES.member')", []pr{{"MSP", member}, {"MSP.WITH.DOTS", member}, {"MSP-WITH-DASHES", member}}, nout(1, sb(0), sb(1), sb(2))},
	{"OR('A.peer', 'B.admin', 'C.orderer', 'D.client')", []pr{{"A", peer}, {"B", admin}, {"C", orderer}, {"D", client}}, nout(1, sb(0), sb(1), sb(2), sb(3))},
	{"OutOf('1', 'A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(1, sb(0), sb(1))},
	{"OutOf(0, 'A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(0, sb(0), sb(1))},
	{"OutOf(3, 'A.member', 'B.member')", []pr{{"A", member}, {"B", member}}, nout(3, sb(0), sb(1))},
	// No deduplication: the same principal twice is two identities.
	{"AND('Org1MSP.member', 'Org1MSP.member')", []pr{{"Org1MSP", member}, {"Org1MSP", member}}, nout(2, sb(0), sb(1))},
	{`and("Org1MSP.peer", or('Org2MSP.peer'))`, []pr{{"Org2MSP", peer}, {"Org1MSP", peer}}, nout(2, sb(1), nout(1, sb(0)))},
	{"\n  Or ( 'Org1MSP.admin' ,\t'Org2MSP.admin' ) \n", []pr{{"Org1MSP", admin}, {"Org2MSP", admin}}, nout(1, sb(0), sb(1))},
	{"outof(1, 'Org1MSP.member')", []pr{{"Org1MSP", member}}, nout(1, sb(0))},
	{"OUTOF(1, 'Org1MSP.member')", []pr{{"Org1MSP", member}}, nout(1, sb(0))},
	{"OR('Org1.member.peer')", []pr{{"Org1.member", peer}}, nout(1, sb(0))},
}

func TestFromStringValid(t *testing.T) {
	for _, tc := range dslValid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := FromString(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := &common.SignaturePolicyEnvelope{Rule: tc.rule}
			for _, p := range tc.ids {
				want.Identities = append(want.Identities, rolePrincipal(t, p.msp, p.role))
			}
			if !proto.Equal(got, want) {
				t.Fatalf("envelope mismatch\n got: %v\nwant: %v", got, want)
			}
		})
	}
}

var dslInvalid = []struct {
	in   string
	want string
}{
	{"", "position 1: expected a gate (AND, OR or OutOf), found end of input"},
	{"'A.member'", "expected a gate (AND, OR or OutOf), found string 'A.member'"},
	{"OR('A.member', 'B.foo')", `position 16: principal 'B.foo': unknown role "foo"`},
	{"OR('A.Member')", `unknown role "Member"`},
	{"OR('A.member'", "unbalanced parentheses: OR opened at position 1 is not closed"},
	{"AND('A.member', OR('B.member')", "unbalanced parentheses: AND opened at position 1 is not closed"},
	{"OR('A.member'))", "position 15: unexpected ')' after the end of the policy"},
	{"OutOf(4, 'A.member', 'B.member')", "invalid OutOf threshold 4 for 2 sub-policies (must be between 0 and 3)"},
	{"OutOf(-1, 'A.member', 'B.member')", "invalid OutOf threshold -1"},
	{"OutOf(1)", "OutOf needs a threshold and at least one principal or gate"},
	{"OutOf(1,)", "OutOf needs at least one principal or gate"},
	{"AND()", "position 1: AND needs at least one principal or gate"},
	{"OR('A.member',)", "position 15: unexpected ')' after ','"},
	{"XOR('A.member')", `position 1: unknown gate name "XOR"`},
	{"oR('A.member')", `unknown gate name "oR"`},
	{"OR('A.member', Bmember)", `position 16: unknown gate name "Bmember"`},
	{"OR('Amember')", "principal 'Amember' is not of the form 'MSPID.role'"},
	{"OR('.member')", "MSP ID is empty"},
	{"OR('A B.member')", "MSP ID contains ' '"},
	{"OR('A.member' 'B.member')", "position 15: expected ',' or ')', found string 'B.member'"},
	{"OutOf(1.5, 'A.member')", "malformed number"},
	{"OutOf(true, 'A.member')", `expected the OutOf threshold (a number), found name "true"`},
	{"OutOf('x', 'A.member')", `OutOf threshold "x" is not a 32-bit whole number`},
	{"OutOf(99999999999, 'A.member')", "not a 32-bit whole number"},
	{"OR(1, 'A.member')", `expected a quoted principal or a gate, found number "1"`},
	{`OR('A.member\q')`, `unsupported escape \q`},
	{"OR('A.member", "position 4: unterminated string"},
	{"OR('A.member') & x", "position 16: unexpected character '&'"},
	{"OR 'A.member'", "expected '(' after OR"},
	{strings.Repeat("OR(", 70) + "'A.member'" + strings.Repeat(")", 70), "nested deeper than 64"},
}

func TestFromStringInvalid(t *testing.T) {
	for _, tc := range dslInvalid {
		t.Run(tc.in, func(t *testing.T) {
			env, err := FromString(tc.in)
			if err == nil {
				t.Fatalf("accepted, got %v", env)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestImplicitMetaFromString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		rule common.ImplicitMetaPolicy_Rule
		sub  string
		want string
	}{
		{in: "ANY Readers", rule: common.ImplicitMetaPolicy_ANY, sub: "Readers"},
		{in: "ALL Writers", rule: common.ImplicitMetaPolicy_ALL, sub: "Writers"},
		{in: "MAJORITY Admins", rule: common.ImplicitMetaPolicy_MAJORITY, sub: "Admins"},
		{in: "ANY", want: "expected two space-separated tokens"},
		{in: "ANY  Readers", want: "got 3"},
		{in: "any Readers", want: `unknown rule "any"`},
		{in: "SOME Readers", want: `unknown rule "SOME"`},
		{in: "ANY ", want: "sub-policy name is empty"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ImplicitMetaFromString(tc.in)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.GetRule() != tc.rule || got.GetSubPolicy() != tc.sub {
				t.Fatalf("got %v", got)
			}
		})
	}
}
