package runner_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"weft/fabcrypto"
)

// caFlow is what conformance/node/ca-flow.js reports from its enroll phase.
type caFlow struct {
	CAName           string   `json:"caName"`
	EnrolledSerial   string   `json:"enrolledSerial"`
	ReenrolledSerial string   `json:"reenrolledSerial"`
	AttrInCert       bool     `json:"attrInCert"`
	AssetOwner       string   `json:"assetOwner"`
	ListedSerials    []string `json:"listedSerials"`
	RevokedSerials   []string `json:"revokedSerials"`
	CRLBytes         int      `json:"crlBytes"`
}

// caCheck is the check phase's report: what the peer answered the user.
type caCheck struct {
	Evaluate struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	} `json:"evaluate"`
	Submit struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
		Details []struct {
			Message string `json:"message"`
		} `json:"details"`
	} `json:"submit"`
}

func nodeFlow(t *testing.T, root string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command("node", append([]string{filepath.Join(root, "conformance", "node", "ca-flow.js")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ca-flow.js %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("ca-flow.js %v output: %v\n%s", args, err, stdout.String())
	}
}

// serialHex is a certificate serial as the Node script prints it.
func serialHex(t *testing.T, path string) string {
	t.Helper()
	c, err := fabcrypto.ReadCertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.Text(16)
}

// TestUpWithCA: weft up runs Org1's CA and enrolls its nodes and users
// from it; an org admin's script with the unmodified fabric-ca-client
// registers, enrolls, reenrolls and revokes a user who transacts through
// fabric-gateway; once the CRL is published to the channel, the peer
// refuses that user while other identities keep working.
func TestUpWithCA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of processes")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	data := filepath.Join(t.TempDir(), "data")
	work := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"ca.org1.example.com", "peer0.org1.example.com"} {
				if b, err := os.ReadFile(filepath.Join(data, "logs", n+".log")); err == nil {
					t.Logf("--- tail of %s:\n%s", n, tail(string(b), 3000))
				}
			}
		}
		harnessDown(t, data)
	})

	out := weft(t, root, "up", "-d", "--data", data, "--base-port", "37050")
	for _, want := range []string{"starting 2 CAs", "enrolled peer0.org1.example.com (peer) from ca.org1.example.com",
		"enrolled Admin@org1.example.com (admin)", "enrolled User1@org2.example.com (client)", "sequence 1 committed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("weft up output lacks %q:\n%s", want, out)
		}
	}
	requireHealthy(t, root, data, "ca.org1.example.com")

	// Node and user identities are issued by the org's CA (cryptogen's CA
	// key, now served by the CA node), under cryptogen's file names.
	org := filepath.Join(data, "organizations", "peerOrganizations", "org1.example.com")
	caCert, err := fabcrypto.ReadCertFile(filepath.Join(org, "ca", "ca.org1.example.com-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	idCerts := map[string]string{
		filepath.Join(org, "peers", "peer0.org1.example.com", "msp", "signcerts", "peer0.org1.example.com-cert.pem"): "peer",
		filepath.Join(org, "users", "Admin@org1.example.com", "msp", "signcerts", "Admin@org1.example.com-cert.pem"): "admin",
		filepath.Join(org, "users", "User1@org1.example.com", "msp", "signcerts", "User1@org1.example.com-cert.pem"): "client",
	}
	for path, ou := range idCerts {
		c, err := fabcrypto.ReadCertFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckSignatureFrom(caCert); err != nil || !slices.Contains(c.Subject.OrganizationalUnit, ou) {
			t.Errorf("%s: issuer check %v, OUs %v (want %s)", filepath.Base(path), err, c.Subject.OrganizationalUnit, ou)
		}
	}
	peerCert, _ := os.ReadFile(filepath.Join(org, "peers", "peer0.org1.example.com", "tls", "server.crt"))

	// The admin script: registrar from the connection profile.
	var flow caFlow
	nodeFlow(t, root, &flow, data, work, "alice", "enroll")
	if flow.CAName != "ca-org1" || !flow.AttrInCert || flow.AssetOwner != "alice" || flow.CRLBytes == 0 {
		t.Fatalf("ca-flow enroll phase: %+v", flow)
	}
	for path := range idCerts {
		if s := serialHex(t, path); !slices.Contains(flow.ListedSerials, s) {
			t.Errorf("%s: serial %s not in the CA's certificate list %v", filepath.Base(path), s, flow.ListedSerials)
		}
	}
	if !slices.Contains(flow.RevokedSerials, flow.EnrolledSerial) || !slices.Contains(flow.RevokedSerials, flow.ReenrolledSerial) {
		t.Fatalf("revoked %v, want both of alice's certificates (%s, %s)", flow.RevokedSerials, flow.EnrolledSerial, flow.ReenrolledSerial)
	}

	// Revoked at the CA, but the channel does not know yet.
	var before caCheck
	nodeFlow(t, root, &before, data, work, "alice", "check")
	if !before.Evaluate.OK {
		t.Fatalf("before publish-crl the peer should still accept alice: %+v", before)
	}

	if got := weft(t, root, "ca", "publish-crl", "--org", "Org1", "--channel", "mychannel", "--data", data); !strings.Contains(got, "Published the CRL of Org1 (2 revoked certificates)") {
		t.Fatalf("publish-crl: %s", got)
	}
	var after caCheck
	nodeFlow(t, root, &after, data, work, "alice", "check")
	if after.Evaluate.OK || !strings.Contains(after.Evaluate.Message, "access denied") {
		t.Errorf("evaluate as revoked alice: %+v", after.Evaluate)
	}
	if after.Submit.OK || len(after.Submit.Details) == 0 || !strings.Contains(after.Submit.Details[0].Message, "access denied") {
		t.Errorf("submit as revoked alice: %+v", after.Submit)
	}
	peerLog, _ := os.ReadFile(filepath.Join(data, "logs", "peer0.org1.example.com.log"))
	if !bytes.Contains(peerLog, []byte(`identity \"alice\" is not valid: certificate serial `+flow.ReenrolledSerial+` has been revoked`)) {
		t.Errorf("the peer log does not give revocation as the reason")
	}
	// Everyone else still works; publishing again changes nothing.
	if got := weft(t, root, "chaincode", "query", "--data", data, "-n", "basic", "-c", `{"Args":["ReadAsset","alice-asset"]}`); !strings.Contains(got, `"Owner":"alice"`) {
		t.Fatalf("query as User1 after the CRL: %s", got)
	}
	if got := weft(t, root, "ca", "publish-crl", "--org", "Org1", "--channel", "mychannel", "--data", data); !strings.Contains(got, "already has the current CRL") {
		t.Fatalf("second publish-crl: %s", got)
	}

	// A restart keeps every enrolled identity and the CA's database.
	weft(t, root, "stop", "--data", data)
	out = weft(t, root, "start", "--data", data)
	if strings.Contains(out, "enrolled ") {
		t.Fatalf("start enrolled identities again:\n%s", out)
	}
	if now, _ := os.ReadFile(filepath.Join(org, "peers", "peer0.org1.example.com", "tls", "server.crt")); !bytes.Equal(now, peerCert) {
		t.Fatal("restart replaced peer0's TLS certificate")
	}
	requireHealthy(t, root, data, "ca.org1.example.com")
	var again caCheck
	nodeFlow(t, root, &again, data, work, "alice", "check")
	if again.Evaluate.OK {
		t.Fatal("after a restart the peer accepts revoked alice again")
	}
}
