package client

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/fabcrypto"
	"weft/msp"
)

// enrollAs registers id with the given type at f and enrolls it.
func enrollAs(t *testing.T, f *fakeCA, c *Client, id, typ string) *Enrollment {
	t.Helper()
	ctx := context.Background()
	admin, err := c.Enroll(ctx, "admin", "adminpw", EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := c.Register(ctx, admin.Signer(), RegistrationRequest{Name: id, Type: typ, Secret: id + "pw"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Enroll(ctx, id, secret, EnrollRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestWriteMSPLoads checks the folder with weft's own MSP: it must load,
// validate the enrolled identity and classify it by the OU the CA stamped.
func TestWriteMSPLoads(t *testing.T) {
	tests := []struct {
		name         string
		intermediate bool
		typ          string
		nodeOUs      bool
		want         msp.Role
	}{
		{"peer under root", false, "peer", true, msp.RolePeer},
		{"admin under intermediate", true, "admin", true, msp.RoleAdmin},
		{"client under intermediate", true, "client", true, msp.RoleClient},
		{"orderer under root", false, "orderer", true, msp.RoleOrderer},
		{"no NodeOUs, listed admin", false, "peer", false, msp.RoleAdmin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCA(t, tc.intermediate)
			_, c := f.start(false)
			e := enrollAs(t, f, c, "node1", tc.typ)
			dir := filepath.Join(t.TempDir(), "msp")
			tlsRoot, _ := fabcrypto.NewRootCA(fabcrypto.RootSpec{Subject: fabcrypto.Subject{CommonName: "tlsca"}})
			opts := MSPOptions{NodeOUs: tc.nodeOUs, TLSCAChain: fabcrypto.EncodeCertPEM(tlsRoot.Cert)}
			if !tc.nodeOUs {
				opts.AdminCerts = [][]byte{e.Cert}
			}
			if err := WriteMSP(dir, e, opts); err != nil {
				t.Fatal(err)
			}

			keyName, _ := fabcrypto.KeyFileName(&e.Key.PublicKey)
			st, err := os.Stat(filepath.Join(dir, "keystore", keyName))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("keystore/%s: %v %v", keyName, st, err)
			}
			for _, p := range []string{"signcerts/cert.pem", "cacerts/ca.org1.example.com.pem", "tlscacerts/tlsca.pem"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			_, err = os.Stat(filepath.Join(dir, "intermediatecerts", "ca.org1.example.com.pem"))
			if (err == nil) != tc.intermediate {
				t.Errorf("intermediatecerts present = %v, want %v", err == nil, tc.intermediate)
			}
			if _, err := os.Stat(filepath.Join(dir, "config.yaml")); (err == nil) != tc.nodeOUs {
				t.Errorf("config.yaml present = %v, want %v", err == nil, tc.nodeOUs)
			}

			cfg, err := msp.ConfigFromDir(dir, "Org1MSP")
			if err != nil {
				t.Fatal(err)
			}
			m, err := msp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if m.NodeOUsEnabled() != tc.nodeOUs || len(m.TLSRootCerts()) != 1 {
				t.Errorf("NodeOUs %v, TLS roots %d", m.NodeOUsEnabled(), len(m.TLSRootCerts()))
			}
			si, err := msp.LoadSigningIdentity(dir, "Org1MSP")
			if err != nil {
				t.Fatal(err)
			}
			id, err := m.DeserializeIdentity(si.Serialize())
			if err != nil {
				t.Fatal(err)
			}
			roles, err := m.Roles(id)
			if err != nil {
				t.Fatal(err)
			}
			if roles[len(roles)-1] != tc.want {
				t.Errorf("roles = %v, want %v last", roles, tc.want)
			}

			s, err := LoadSigner(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Key.Equal(e.Key) || string(s.Cert) != string(e.Cert) {
				t.Error("LoadSigner did not return the enrolled key and certificate")
			}
		})
	}
}

func TestWriteMSPErrors(t *testing.T) {
	f := newFakeCA(t, false)
	_, c := f.start(false)
	e := enrollAs(t, f, c, "user1", "client")
	stranger := newFakeCA(t, false)
	otherKey, _ := fabcrypto.GenerateKey()
	tests := []struct {
		name string
		e    *Enrollment
		opts MSPOptions
		want string
	}{
		{"nil enrollment", nil, MSPOptions{}, "enrollment or its key is missing"},
		{"no key", &Enrollment{Cert: e.Cert, CAChain: e.CAChain}, MSPOptions{}, "enrollment or its key is missing"},
		{"key mismatch", &Enrollment{Key: otherKey, Cert: e.Cert, CAChain: e.CAChain}, MSPOptions{}, "does not belong"},
		{"bad cert", &Enrollment{Key: e.Key, Cert: []byte("x"), CAChain: e.CAChain}, MSPOptions{}, "enrollment certificate"},
		{"foreign chain", &Enrollment{Key: e.Key, Cert: e.Cert, CAChain: stranger.chain}, MSPOptions{}, "issued the enrollment certificate"},
		{"chain without root", &Enrollment{Key: e.Key, Cert: e.Cert, CAChain: e.Cert}, MSPOptions{}, "no self-signed root"},
		{"empty chain", &Enrollment{Key: e.Key, Cert: e.Cert}, MSPOptions{}, "CA chain"},
		{"path in name", e, MSPOptions{CACertName: "../x.pem"}, "must not contain a path"},
		{"bad TLS chain", e, MSPOptions{TLSCAChain: []byte("junk")}, "TLS CA chain"},
		{"bad admin cert", e, MSPOptions{AdminCerts: [][]byte{[]byte("junk")}}, "admin certificate 0"},
	}
	for _, tc := range tests {
		err := WriteMSP(filepath.Join(t.TempDir(), "msp"), tc.e, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}

	dir := filepath.Join(t.TempDir(), "msp")
	if _, err := LoadSigner(dir); err == nil {
		t.Error("LoadSigner of a missing folder succeeded")
	}
	if err := WriteMSP(dir, e, MSPOptions{}); err != nil {
		t.Fatal(err)
	}
	keyName, _ := fabcrypto.KeyFileName(&e.Key.PublicKey)
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(dir, "keystore", keyName), otherKey); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(dir); err == nil || !strings.Contains(err.Error(), "no private key matches") {
		t.Errorf("LoadSigner with a foreign key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "signcerts", "cert.pem"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(dir); err == nil || !strings.Contains(err.Error(), "no certificate found") {
		t.Errorf("LoadSigner without a certificate: %v", err)
	}
}
