package configtxgen

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"weft/channelconfig"
)

func TestLoadProfile(t *testing.T) {
	dir := writeConfig(t)
	p, err := Load(dir, "ChannelUsingRaft")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Policies["Admins"]; got.Type != "ImplicitMeta" || got.Rule != "MAJORITY Admins" {
		t.Errorf("channel Admins policy = %+v", got)
	}
	if !slices.Equal(p.Capabilities, []string{"V2_0"}) {
		t.Errorf("channel capabilities = %v", p.Capabilities)
	}

	o := p.Orderer
	if o == nil {
		t.Fatal("no orderer section")
	}
	if o.OrdererType != "etcdraft" || o.BatchTimeout != 2*time.Second {
		t.Errorf("orderer type/timeout = %q/%v", o.OrdererType, o.BatchTimeout)
	}
	wantBS := channelconfig.BatchSizeSpec{MaxMessageCount: 10, AbsoluteMaxBytes: 99 << 20, PreferredMaxBytes: 512 << 10}
	if o.BatchSize != wantBS {
		t.Errorf("batch size = %+v, want %+v", o.BatchSize, wantBS)
	}
	wantOpts := channelconfig.EtcdRaftOptions{TickInterval: "250ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 20 << 20}
	if o.EtcdRaft.Options != wantOpts {
		t.Errorf("raft options = %+v, want %+v", o.EtcdRaft.Options, wantOpts)
	}
	if len(o.EtcdRaft.Consenters) != 3 {
		t.Fatalf("consenters = %d, want 3", len(o.EtcdRaft.Consenters))
	}
	for i, c := range o.EtcdRaft.Consenters {
		host := []string{"orderer0.example.com", "orderer1.example.com", "orderer2.example.com"}[i]
		if c.Host != host || c.Port != 7050+1000*i {
			t.Errorf("consenter %d = %s:%d", i, c.Host, c.Port)
		}
		// The paths in the file are relative to the config directory,
		// not to the test's working directory.
		want := ordererTLSCert(t, host)
		if !bytes.Equal(c.ClientTLSCert, want) || !bytes.Equal(c.ServerTLSCert, want) {
			t.Errorf("consenter %d: TLS certs do not match %s's server.crt", i, host)
		}
	}
	if !slices.Equal(o.Capabilities, []string{"V2_0"}) || len(o.Policies) != 4 || o.Policies["BlockValidation"].Rule != "ANY Writers" {
		t.Errorf("orderer capabilities %v / policies %v", o.Capabilities, o.Policies)
	}
	if len(o.Organizations) != 1 || o.Organizations[0].Name != "OrdererOrg" || o.Organizations[0].ID != "OrdererMSP" {
		t.Fatalf("orderer orgs = %+v", o.Organizations)
	}
	if oo := o.Organizations[0]; len(oo.OrdererEndpoints) != 3 || oo.OrdererEndpoints[2] != "orderer2.example.com:9050" || oo.MSP == nil {
		t.Errorf("orderer org endpoints/msp = %v / %v", oo.OrdererEndpoints, oo.MSP)
	}

	a := p.Application
	if a == nil {
		t.Fatal("no application section")
	}
	if !slices.Equal(a.Capabilities, []string{"V2_5"}) {
		t.Errorf("application capabilities = %v (V1_3 is false and must be dropped)", a.Capabilities)
	}
	if a.ACLs["event/Block"] != "/Channel/Application/Readers" || len(a.ACLs) != 2 {
		t.Errorf("ACLs = %v", a.ACLs)
	}
	if len(a.Policies) != 5 || a.Policies["LifecycleEndorsement"].Rule != "MAJORITY Endorsement" {
		t.Errorf("application policies = %v", a.Policies)
	}
	if len(a.Organizations) != 2 {
		t.Fatalf("application orgs = %d", len(a.Organizations))
	}
	org2 := a.Organizations[1]
	if org2.Name != "Org2MSP" || org2.ID != "Org2MSP" || org2.MSP == nil || len(org2.MSP.GetConfig()) == 0 {
		t.Errorf("org2 = %+v", org2)
	}
	if len(org2.AnchorPeers) != 1 || org2.AnchorPeers[0] != (channelconfig.AnchorPeer{Host: "peer0.org2.example.com", Port: 9051}) {
		t.Errorf("org2 anchors = %v", org2.AnchorPeers)
	}
	if org2.Policies["Endorsement"].Rule != "OR('Org2MSP.peer')" || org2.Policies["Endorsement"].Type != "Signature" {
		t.Errorf("org2 policies = %v", org2.Policies)
	}
}

func TestLoadSelectsProfile(t *testing.T) {
	p, err := Load(writeConfig(t), "Org1Only")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Application.Organizations) != 1 || p.Orderer.BatchTimeout != 500*time.Millisecond || len(p.Orderer.EtcdRaft.Consenters) != 1 {
		t.Errorf("Org1Only: %d app orgs, timeout %v, %d consenters", len(p.Application.Organizations), p.Orderer.BatchTimeout, len(p.Orderer.EtcdRaft.Consenters))
	}
	// Not set in this profile: configtxgen's defaults apply.
	if p.Orderer.EtcdRaft.Options != channelconfig.DefaultEtcdRaftOptions() || p.Orderer.Capabilities != nil {
		t.Errorf("defaults not applied: %+v, caps %v", p.Orderer.EtcdRaft.Options, p.Orderer.Capabilities)
	}
}

func TestLoadAbsoluteAndEnvPaths(t *testing.T) {
	abs := filepath.Join(orgsDir, "peerOrganizations", "org1.example.com", "msp")
	dir := writeConfig(t, "MSPDir: ../organizations/peerOrganizations/org1.example.com/msp", "MSPDir: "+abs)
	t.Setenv("FABRIC_CFG_PATH", dir)
	p, err := Load("", "Org1Only") // no -configPath: FABRIC_CFG_PATH is used
	if err != nil {
		t.Fatal(err)
	}
	if p.Application.Organizations[0].MSP == nil {
		t.Error("org1 MSP not loaded from absolute MSPDir")
	}
	t.Setenv("FABRIC_CFG_PATH", "")
	if _, err := Load("", "Org1Only"); err == nil || !strings.Contains(err.Error(), "FABRIC_CFG_PATH") {
		t.Errorf("no config path: err = %v", err)
	}
}

func TestFindConfigFileYml(t *testing.T) {
	dir := t.TempDir()
	if _, err := FindConfigFile(dir); err == nil || !strings.Contains(err.Error(), "configtx.yaml") {
		t.Errorf("empty dir: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "configtx.yml"), []byte("Profiles: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindConfigFile(dir)
	if err != nil || filepath.Base(got) != "configtx.yml" {
		t.Errorf("FindConfigFile = %q, %v", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	const raft = "Profiles.ChannelUsingRaft"
	tests := []struct {
		name    string
		profile string
		repl    []string
		want    []string // substrings of the error
	}{
		{"unknown profile", "NoSuchProfile", nil,
			[]string{"unknown profile", `"NoSuchProfile"`, "ChannelUsingRaft, Org1Only"}},
		{"empty profile name", "", nil, []string{"no profile"}},
		{"bad size unit", "", []string{"AbsoluteMaxBytes: 99 MB", "AbsoluteMaxBytes: 99 XB"},
			[]string{raft + ".Orderer.BatchSize.AbsoluteMaxBytes", `"99 XB"`}},
		{"size overflow", "", []string{"AbsoluteMaxBytes: 99 MB", "AbsoluteMaxBytes: 4 GB"},
			[]string{"AbsoluteMaxBytes", "overflows uint32"}},
		{"preferred above absolute", "", []string{"PreferredMaxBytes: 512 KB", "PreferredMaxBytes: 100 MB"},
			[]string{"PreferredMaxBytes", "more than AbsoluteMaxBytes"}},
		{"missing MSPDir", "", []string{"    MSPDir: ../organizations/peerOrganizations/org2.example.com/msp\n", ""},
			[]string{raft + ".Application.Organizations[1].MSPDir: missing"}},
		{"MSPDir does not exist", "", []string{"peerOrganizations/org2.example.com/msp", "peerOrganizations/org9.example.com/msp"},
			[]string{`org "Org2MSP"`, "does not exist"}},
		{"unknown org key", "", []string{"    ID: Org1MSP\n", "    ID: Org1MSP\n    Bogus: 1\n"},
			[]string{raft + ".Application.Organizations[0].Bogus", `unknown key "Bogus"`}},
		{"unknown orderer key", "", []string{"  BatchTimeout: 2s\n", "  BatchTimeout: 2s\n  BatchTimout: 3s\n"},
			[]string{raft + ".Orderer.BatchTimout", "unknown key"}},
		{"unknown top-level key", "", []string{"Capabilities:\n  Channel:", "Capabilites:\n  Channel:"},
			[]string{`unknown key "Capabilites"`}},
		{"bad batch timeout", "", []string{"BatchTimeout: 2s", "BatchTimeout: soon"},
			[]string{raft + ".Orderer.BatchTimeout", "duration"}},
		{"bad policy type", "", []string{"Type: ImplicitMeta\n      Rule: \"ANY Readers\"", "Type: Implicit\n      Rule: \"ANY Readers\""},
			[]string{".Policies.Readers.Type", `unknown policy type "Implicit"`}},
		{"solo orderer", "", []string{"OrdererType: etcdraft", "OrdererType: solo"},
			[]string{raft + ".Orderer.OrdererType", `"solo" not supported`}},
		{"BFT orderer", "", []string{"OrdererType: etcdraft", "OrdererType: BFT"},
			[]string{`"BFT" not supported`}},
		{"no consenters", "Org1Only", []string{"      BatchTimeout: 500ms\n      EtcdRaft:\n        Consenters:\n", "      BatchTimeout: 500ms\n      EtcdRaft:\n        Consenters: []\n        Options:\n          Ignored:\n"},
			[]string{"Profiles.Org1Only.Orderer.EtcdRaft.Consenters: no consenters listed"}},
		{"missing consenter cert", "", []string{"orderer1.example.com/tls/server.crt\n            ServerTLSCert", "orderer7.example.com/tls/server.crt\n            ServerTLSCert"},
			[]string{"consenter 1 (orderer1.example.com:8050)", "ClientTLSCert"}},
		{"consenter without port", "", []string{"          - Host: orderer2.example.com\n            Port: 9050\n", "          - Host: orderer2.example.com\n"},
			[]string{raft + ".Orderer.EtcdRaft.Consenters[2].Port"}},
		{"election tick too small", "", []string{"TickInterval: 250ms", "TickInterval: 250ms\n          ElectionTick: 1\n          HeartbeatTick: 2"},
			[]string{"ElectionTick (1) must be greater than HeartbeatTick (2)"}},
		{"capability not a bool", "", []string{"V1_3: false", "V1_3: maybe"},
			[]string{"Capabilities.V1_3", "true or false"}},
		{"consortium profile", "", []string{"  ChannelUsingRaft:\n", "  ChannelUsingRaft:\n    Consortium: SampleConsortium\n"},
			[]string{"system channel"}},
		{"invalid yaml", "", []string{"Profiles:\n", "Profiles: [\n"}, []string{"invalid YAML"}},
		{"anchor peer port out of range", "", []string{"Port: 9051", "Port: 70000"},
			[]string{"AnchorPeers[0].Port", "too large"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			profile := tc.profile
			if profile == "" && tc.name != "empty profile name" {
				profile = "ChannelUsingRaft"
			}
			_, err := Load(writeConfig(t, tc.repl...), profile)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestUnknownProfileIsSentinel(t *testing.T) {
	_, err := Load(writeConfig(t), "Nope")
	if !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("err = %v, want ErrUnknownProfile", err)
	}
}

func TestKeysAreCaseInsensitive(t *testing.T) {
	// viper, which configtxgen uses, ignores key case; so must we.
	dir := writeConfig(t, "ClientTLSCert: ../organizations/ordererOrganizations/example.com/orderers/orderer0",
		"clienttlscert: ../organizations/ordererOrganizations/example.com/orderers/orderer0")
	p, err := Load(dir, "ChannelUsingRaft")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Orderer.EtcdRaft.Consenters[0].ClientTLSCert, ordererTLSCert(t, "orderer0.example.com")) {
		t.Error("lower-case key not read")
	}
	dup := writeConfig(t, "    ID: Org1MSP\n", "    ID: Org1MSP\n    id: Other\n")
	if _, err := Load(dup, "ChannelUsingRaft"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate key in two cases: err = %v", err)
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{"99 MB", 99 << 20, false},
		{"512 KB", 512 << 10, false},
		{"1g", 1 << 30, false},
		{"10m", 10 << 20, false},
		{"16Kb", 16 << 10, false},
		{"12345", 12345, false},
		{" 7 ", 7, false},
		{"3 GB", 3 << 30, false},
		{"4 GB", 0, true},
		{"4294967296", 0, true},
		{"99 TB", 0, true},
		{"MB", 0, true},
		{"-1 KB", 0, true},
		{"1.5 MB", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
