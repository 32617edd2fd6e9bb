package population

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/gen/network"
	"weft/spec"
	"weft/wire/common"
	pb "weft/wire/peer"
)

func TestDefinition(t *testing.T) {
	cases := []struct {
		name     string
		cc       spec.Chaincode
		wantVP   bool
		wantErr  string
		sequence int64
	}{
		{name: "channel default policy", cc: spec.Chaincode{Name: "basic", Version: "1.0", Sequence: 1}, sequence: 1},
		{name: "signature policy", cc: spec.Chaincode{Name: "basic", Version: "2", Sequence: 3, Endorsement: "AND('Org1MSP.peer','Org2MSP.peer')"}, wantVP: true, sequence: 3},
		{name: "bad policy", cc: spec.Chaincode{Name: "basic", Endorsement: "AND("}, wantErr: "endorsement"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Definition(c.cc)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != c.cc.Name || d.Version != c.cc.Version || d.Sequence != c.sequence {
				t.Fatalf("definition %+v", d)
			}
			if (d.ValidationParameter != nil) != c.wantVP {
				t.Fatalf("validation parameter %x, want set=%v", d.ValidationParameter, c.wantVP)
			}
			if c.wantVP {
				var ap pb.ApplicationPolicy
				if err := proto.Unmarshal(d.ValidationParameter, &ap); err != nil || ap.GetSignaturePolicy() == nil {
					t.Fatalf("validation parameter is no signature policy: %v", err)
				}
			}
		})
	}
}

// fixture generates the crypto of a small network once per test.
func fixture(t *testing.T) (*spec.Network, network.Layout) {
	t.Helper()
	n := spec.Default()
	n.Orderer.Nodes = 1
	n.Chaincodes = nil
	n.SetDefaults()
	dir := t.TempDir()
	if _, err := network.Generate(n, dir, network.Options{Endpoints: network.EndpointsFrom(31050)}); err != nil {
		t.Fatal(err)
	}
	return n, network.Layout{Dir: dir}
}

func TestTLSUserAndAdminClient(t *testing.T) {
	n, l := fixture(t)
	userDir := filepath.Dir(l.OrdererAdminMSP(n))
	u, err := LoadTLSUser(userDir, n.Orderer.MSPID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.CertHash()) != 32 {
		t.Fatalf("cert hash %x", u.CertHash())
	}
	ca, err := os.ReadFile(filepath.Join(l.OrdererOrgDir(n), "tlsca", "tlsca."+n.Orderer.Domain+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AdminHTTPClient(u, ca, "orderer0"); err != nil {
		t.Fatal(err)
	}

	// Negative cases.
	if _, err := LoadTLSUser(filepath.Join(t.TempDir(), "nobody"), "X"); err == nil {
		t.Error("LoadTLSUser of a missing folder succeeded")
	}
	noTLS := t.TempDir()
	if err := os.CopyFS(filepath.Join(noTLS, "msp"), os.DirFS(filepath.Join(userDir, "msp"))); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLSUser(noTLS, n.Orderer.MSPID); err == nil || !strings.Contains(err.Error(), "TLS client certificate") {
		t.Errorf("LoadTLSUser without tls/: %v", err)
	}
	if _, err := AdminHTTPClient(nil, ca, "x"); err == nil {
		t.Error("nil user accepted")
	}
	if _, err := AdminHTTPClient(u, []byte("not pem"), "x"); err == nil || !strings.Contains(err.Error(), "TLS CA") {
		t.Errorf("bad CA: %v", err)
	}
	bad := *u
	bad.TLSKey = []byte("junk")
	if _, err := AdminHTTPClient(&bad, ca, "x"); err == nil || !strings.Contains(err.Error(), "admin TLS identity") {
		t.Errorf("bad key: %v", err)
	}
}

func TestAppOrgsAndSign(t *testing.T) {
	if _, err := AppOrgs(&common.Config{ChannelGroup: &common.ConfigGroup{}}); err == nil {
		t.Error("config without Application group accepted")
	}
	cfg := &common.Config{ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{
		"Application": {Groups: map[string]*common.ConfigGroup{"Org2MSP": {}, "Org1MSP": {}}},
	}}}
	ids, err := AppOrgs(cfg)
	if err != nil || strings.Join(ids, ",") != "Org1MSP,Org2MSP" {
		t.Fatalf("AppOrgs = %v, %v", ids, err)
	}
	if _, err := SignConfigUpdate("ch", &common.ConfigUpdate{ChannelId: "ch"}, nil); err == nil {
		t.Error("update signed by nobody")
	}
}
