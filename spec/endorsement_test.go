package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestEndorsementMSPs(t *testing.T) {
	tests := []struct {
		policy  string
		want    []string
		wantErr string
	}{
		{"AND('Org1MSP.peer','Org2MSP.peer')", []string{"Org1MSP", "Org2MSP"}, ""},
		{`OR("Org1MSP.member", 'org.two-MSP.admin')`, []string{"Org1MSP", "org.two-MSP"}, ""},
		{"OutOf(2, 'A.peer', AND('B.client', 'C.orderer'), 'D.member')", []string{"A", "B", "C", "D"}, ""},
		{" and ( 'A.peer' ) ", []string{"A"}, ""},
		{"", nil, "expected AND(, OR( or OutOf( but the policy ended"},
		{"'A.peer'", nil, "expected AND(, OR( or OutOf( at offset 0"},
		{"XOR('A.peer')", nil, `unknown operator "XOR"`},
		{"AND 'A.peer'", nil, "expected ( after AND"},
		{"AND('A.peer'", nil, "missing ) to close AND"},
		{"AND('A.peer' 'B.peer')", nil, "expected , or ) at offset 13"},
		{"AND('A.peer)", nil, "unterminated quote"},
		{"AND('A.boss')", nil, `principal "A.boss" is not of the form`},
		{"AND('.peer')", nil, `principal ".peer" is not of the form`},
		{"AND()", nil, "expected AND(, OR( or OutOf( at offset 4"},
		{"OutOf(0, 'A.peer')", nil, "OutOf needs a positive count"},
		{"OutOf(x, 'A.peer')", nil, "OutOf needs a positive count"},
		{"OutOf(1 'A.peer')", nil, "expected , after the OutOf count"},
		{"OutOf(3, 'A.peer', 'B.peer')", nil, "can never be satisfied"},
		{"AND('A.peer') extra", nil, `unexpected "extra" after the policy`},
		{strings.Repeat("AND(", 40) + "'A.peer'" + strings.Repeat(")", 40), nil, "nests deeper than 32 levels"},
	}
	for _, tc := range tests {
		got, err := endorsementMSPs(tc.policy)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.policy, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %v, %v; want %v", tc.policy, got, err, tc.want)
		}
	}
}
