package shim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weft/chaincode/internal/peertest"
	pb "weft/wire/peer"
)

func TestOptionsFromEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := peertest.NewTLS(t)
	cert, key := write("cert.pem", string(files.ServerCert)), write("key.pem", string(files.ServerKey))
	ca := write("ca.pem", string(files.CA))
	garbage := write("garbage.pem", "not pem")
	cases := []struct {
		name       string
		env        map[string]string
		wantErr    string
		wantID     string
		wantTLS    bool
		wantClient bool
	}{
		{name: "plain", env: map[string]string{EnvAddress: "0.0.0.0:9999", EnvID: "basic_1.0:ab"}, wantID: "basic_1.0:ab"},
		{name: "legacy id", env: map[string]string{EnvAddress: ":9999", EnvLegacyID: "old:1"}, wantID: "old:1"},
		{name: "id wins over legacy", env: map[string]string{EnvAddress: ":9999", EnvID: "new:1", EnvLegacyID: "old:1"}, wantID: "new:1"},
		{name: "no address", env: map[string]string{EnvID: "x:1"}, wantErr: EnvAddress + " is not set"},
		{name: "no id", env: map[string]string{EnvAddress: ":1"}, wantErr: "neither " + EnvID},
		{name: "tls", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSCert: cert, EnvTLSKey: key}, wantID: "x:1", wantTLS: true},
		{name: "mutual tls", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSCert: cert, EnvTLSKey: key, EnvClientCA: ca},
			wantID: "x:1", wantTLS: true, wantClient: true},
		{name: "tls disabled", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSDisabled: "true", EnvTLSCert: cert, EnvTLSKey: key}, wantID: "x:1"},
		{name: "bad disabled", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSDisabled: "maybe"}, wantErr: "not a boolean"},
		{name: "cert without key", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSCert: cert}, wantErr: "must be set together"},
		{name: "ca alone", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvClientCA: ca}, wantErr: EnvClientCA + " is set"},
		{name: "missing file", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSCert: filepath.Join(dir, "nope"), EnvTLSKey: key}, wantErr: EnvTLSCert},
		{name: "garbage cert", env: map[string]string{EnvAddress: ":1", EnvID: "x:1", EnvTLSCert: garbage, EnvTLSKey: key}, wantErr: "TLS"},
	}
	for _, c := range cases {
		o, err := optionsFrom(func(k string) string { return c.env[k] })
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if o.ChaincodeID != c.wantID || o.Address != c.env[EnvAddress] || (o.TLS != nil) != c.wantTLS {
			t.Errorf("%s: got %+v", c.name, o)
		}
		if c.wantTLS && (o.TLS.ClientCAs != nil) != c.wantClient {
			t.Errorf("%s: client CAs set = %v, want %v", c.name, o.TLS.ClientCAs != nil, c.wantClient)
		}
	}
}

type nopCC struct{}

func (nopCC) Init(Stub) *pb.Response   { return Success(nil) }
func (nopCC) Invoke(Stub) *pb.Response { return Success(nil) }

func TestServeRejects(t *testing.T) {
	cases := []struct {
		name string
		cc   Chaincode
		opts ServerOptions
		want string
	}{
		{"nil chaincode", nil, ServerOptions{Address: "127.0.0.1:0", ChaincodeID: "x:1"}, "chaincode is nil"},
		{"no id", nopCC{}, ServerOptions{Address: "127.0.0.1:0"}, "chaincode ID is empty"},
		{"no address", nopCC{}, ServerOptions{ChaincodeID: "x:1"}, "address is empty"},
		{"bad address", nopCC{}, ServerOptions{Address: "nowhere", ChaincodeID: "x:1"}, `address "nowhere"`},
		{"unusable address", nopCC{}, ServerOptions{Address: "256.1.1.1:1", ChaincodeID: "x:1"}, "chaincode server"},
	}
	for _, c := range cases {
		err := Serve(context.Background(), c.cc, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, nopCC{}, ServerOptions{Address: "127.0.0.1:0", ChaincodeID: "x:1"}); err != nil {
		t.Errorf("Serve with an ended context: %v", err)
	}
}
