package configtxgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

// dig follows a path like "data.data.0.payload" through decoded JSON.
func dig(t *testing.T, v any, path string) any {
	t.Helper()
	for _, part := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[part]
			if !ok {
				t.Fatalf("%s: no key %q (have %v)", path, part, keys(cur))
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(cur) {
				t.Fatalf("%s: bad index %q into list of %d", path, part, len(cur))
			}
			v = cur[i]
		default:
			t.Fatalf("%s: cannot descend into %T at %q", path, v, part)
		}
	}
	return v
}

func inspectJSON(t *testing.T, b *common.Block) any {
	t.Helper()
	out, err := InspectBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return v
}

func TestInspectGenesisBlock(t *testing.T) {
	block, _ := genesisFromTestdata(t, "ChannelUsingRaft")
	v := inspectJSON(t, block)

	const env = "data.data.0.payload"
	const grp = env + ".data.config.channel_group"
	tests := []struct {
		path string
		want any
	}{
		{"header.number", "0"},
		{env + ".header.channel_header.channel_id", "mychannel"},
		{env + ".header.channel_header.type", float64(1)},
		{env + ".data.config.sequence", "0"},
		{grp + ".mod_policy", "Admins"},
		{grp + ".values.HashingAlgorithm.value.name", "SHA256"},
		{grp + ".values.BlockDataHashingStructure.value.width", float64(4294967295)},
		{grp + ".values.Capabilities.value.capabilities.V2_0", map[string]any{}},
		{grp + ".policies.Admins.policy.value.rule", "MAJORITY"},
		{grp + ".policies.Admins.policy.value.sub_policy", "Admins"},
		{grp + ".groups.Orderer.values.BatchSize.value.absolute_max_bytes", float64(103809024)},
		{grp + ".groups.Orderer.values.BatchTimeout.value.timeout", "2s"},
		{grp + ".groups.Orderer.values.ConsensusType.value.type", "etcdraft"},
		{grp + ".groups.Orderer.values.ConsensusType.value.state", "STATE_NORMAL"},
		{grp + ".groups.Orderer.values.ConsensusType.value.metadata.consenters.2.host", "orderer2.example.com"},
		{grp + ".groups.Orderer.values.ConsensusType.value.metadata.options.tick_interval", "250ms"},
		{grp + ".groups.Orderer.groups.OrdererOrg.values.MSP.value.config.name", "OrdererMSP"},
		{grp + ".groups.Orderer.groups.OrdererOrg.values.Endpoints.value.addresses.0", "orderer0.example.com:7050"},
		{grp + ".groups.Application.values.ACLs.value.acls.event/Block.policy_ref", "/Channel/Application/Readers"},
		{grp + ".groups.Application.groups.Org1MSP.values.MSP.value.type", float64(0)},
		{grp + ".groups.Application.groups.Org1MSP.values.MSP.value.config.name", "Org1MSP"},
		{grp + ".groups.Application.groups.Org2MSP.values.AnchorPeers.value.anchor_peers.0.port", float64(9051)},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.type", float64(1)},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.value.identities.0.principal_classification", "ROLE"},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.value.identities.0.principal.msp_identifier", "Org2MSP"},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.value.identities.0.principal.role", "ADMIN"},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.value.rule.n_out_of.n", float64(1)},
		{grp + ".groups.Application.groups.Org2MSP.policies.Admins.policy.value.rule.n_out_of.rules.0.signed_by", float64(0)},
		{"metadata.metadata.1.value.index", "0"},
		{"metadata.metadata.0.value.last_config.index", "0"},
	}
	for _, tc := range tests {
		got := dig(t, v, tc.path)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.path, got, tc.want)
		}
	}

	// Certificates inside the MSP stay base64 PEM, like protolator shows them.
	root := dig(t, v, grp+".groups.Application.groups.Org1MSP.values.MSP.value.config.root_certs.0").(string)
	pem, err := base64.StdEncoding.DecodeString(root)
	if err != nil || !strings.HasPrefix(string(pem), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("root cert is not base64 PEM: %v", err)
	}
}

func TestInspectErrors(t *testing.T) {
	if _, err := InspectBlock(nil); err == nil {
		t.Error("nil block: no error")
	}
	// A config envelope whose payload is garbage must be reported with its
	// position, not printed half-decoded.
	bad := &common.Block{Header: &common.BlockHeader{}, Data: &common.BlockData{Data: [][]byte{{0xff, 0xff, 0xff}}}}
	_, err := InspectBlock(bad)
	if err == nil || !strings.Contains(err.Error(), "data.data[0]") {
		t.Errorf("garbage envelope: err = %v", err)
	}
	// An unknown config value key is left as base64 rather than guessed.
	g := &common.ConfigGroup{Values: map[string]*common.ConfigValue{"Mystery": {Value: []byte{1, 2, 3}}}}
	out, err := MessageJSON(g)
	if err != nil || !strings.Contains(string(out), `"AQID"`) {
		t.Errorf("unknown value: %s, %v", out, err)
	}
}

func TestInspectEndorserTransactionHeader(t *testing.T) {
	// Non-config envelopes still get their headers decoded.
	chdr, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: "c1", TxId: "abc"})
	pl, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr}})
	env, _ := proto.Marshal(&common.Envelope{Payload: pl, Signature: []byte("sig")})
	v := inspectJSON(t, &common.Block{Header: &common.BlockHeader{Number: 7}, Data: &common.BlockData{Data: [][]byte{env}}})
	if got := dig(t, v, "data.data.0.payload.header.channel_header.tx_id"); got != "abc" {
		t.Errorf("tx_id = %v", got)
	}
	if got := dig(t, v, "header.number"); got != "7" {
		t.Errorf("number = %v", got)
	}
}

func TestOrgGroup(t *testing.T) {
	f, err := ReadFile(writeConfig(t) + "/configtx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		org, profile, wantValue, wantErr string
	}{
		{"Org2MSP", "", "AnchorPeers", ""},
		{"OrdererOrg", "Org1Only", "Endpoints", ""},
		{"Org2MSP", "Org1Only", "", `not part of profile "Org1Only"`},
		{"Org9MSP", "", "", "not listed in any profile"},
		{"Org1MSP", "Missing", "", "unknown profile"},
	} {
		g, err := OrgGroup(f, tc.org, tc.profile)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("OrgGroup(%s, %q): err = %v, want %q", tc.org, tc.profile, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("OrgGroup(%s, %q): %v", tc.org, tc.profile, err)
			continue
		}
		if g.GetValues()["MSP"] == nil || g.GetValues()[tc.wantValue] == nil {
			t.Errorf("OrgGroup(%s): values %v", tc.org, keys(g.GetValues()))
		}
	}
}
