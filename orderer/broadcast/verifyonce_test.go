package broadcast

import (
	"testing"

	"weft/policy"
	"weft/wire/common"
)

// TestAuthorizeVerifiesOnce checks that the explicit signature check and
// the Writers policy share one verification, with statuses unchanged.
func TestAuthorizeVerifiesOnce(t *testing.T) {
	f := newFixture(t, fixtureOpts{org1Writers: "OR('Org1MSP.admin')"})
	tests := []struct {
		name      string
		env       func(t *testing.T) *common.Envelope
		status    common.Status // SUCCESS means authorised
		verifying int
	}{
		{name: "writer", env: func(t *testing.T) *common.Envelope { return tx(t, f.member(t, "admin"), nil) }, status: common.Status_SUCCESS, verifying: 1},
		{name: "orderer admin via ANY Writers", env: func(t *testing.T) *common.Envelope { return tx(t, f.member(t, "ordAdmin"), nil) }, status: common.Status_SUCCESS, verifying: 1},
		{name: "member but not a writer", env: func(t *testing.T) *common.Envelope { return tx(t, f.member(t, "client"), nil) }, status: common.Status_FORBIDDEN, verifying: 1},
		{name: "bad signature", env: func(t *testing.T) *common.Envelope {
			e := tx(t, f.member(t, "admin"), nil)
			e.Signature[len(e.Signature)-1] ^= 1
			return e
		}, status: common.Status_FORBIDDEN, verifying: 1},
		{name: "outsider is not verified", env: func(t *testing.T) *common.Envelope { return tx(t, f.member(t, "outsider"), nil) }, status: common.Status_FORBIDDEN, verifying: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rej := parse(tc.env(t))
			if rej != nil {
				t.Fatalf("parse: %v", rej.response())
			}
			memo := policy.NewVerifyMemo()
			rej = authorizeWith(f.bundle, p, memo)
			status := common.Status_SUCCESS
			if rej != nil {
				status = rej.response().Status
			}
			if status != tc.status {
				t.Fatalf("status %v, want %v", status, tc.status)
			}
			if got := memo.Verifications(); got != tc.verifying {
				t.Fatalf("%d signature verifications, want %d", got, tc.verifying)
			}
		})
	}
}
