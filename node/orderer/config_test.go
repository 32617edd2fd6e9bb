package orderer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleConfig = `
General:
  ListenAddress: 127.0.0.1
  ListenPort: 7050
  TLS:
    Enabled: true
    PrivateKey: tls/server.key
    Certificate: tls/server.crt
    RootCAs: [tls/ca.crt]
    ClientAuthRequired: true
    ClientRootCAs: [tls/ca.crt]
  Cluster:
    ClientCertificate: tls/server.crt
    ClientPrivateKey: tls/server.key
  LocalMSPDir: msp
  LocalMSPID: OrdererMSP
FileLedger:
  Location: data
Admin:
  ListenAddress: 127.0.0.1:7053
  TLS:
    Enabled: true
    PrivateKey: tls/server.key
    Certificate: tls/server.crt
    ClientAuthRequired: true
    ClientRootCAs: [tls/ca.crt]
ChannelParticipation:
  Enabled: true
Operations:
  ListenAddress: 127.0.0.1:9443
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "orderer.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	p := writeConfig(t, sampleConfig)
	c, err := LoadConfig(p, []string{
		"ORDERER_GENERAL_LISTENPORT=7150",
		"ORDERER_GENERAL_TLS_CLIENTROOTCAS=[a.pem, b.pem]",
		"ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:0",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.General.ListenPort != 7150 {
		t.Errorf("ListenPort = %d, want the env override 7150", c.General.ListenPort)
	}
	if got := strings.Join(c.General.TLS.ClientRootCAs, ","); got != "a.pem,b.pem" {
		t.Errorf("ClientRootCAs = %q", got)
	}
	if c.Operations.ListenAddress != "127.0.0.1:0" {
		t.Errorf("Operations.ListenAddress = %q", c.Operations.ListenAddress)
	}
	if want := filepath.Join(filepath.Dir(p), "tls/server.crt"); c.path(c.General.TLS.Certificate) != want {
		t.Errorf("relative path resolved to %q, want %q", c.path(c.General.TLS.Certificate), want)
	}
	if c.Consensus.WALDir != filepath.Join("data", "etcdraft") || c.ChannelParticipation.MaxRequestBodySize != 1<<20 {
		t.Errorf("defaults not applied: %+v %+v", c.Consensus, c.ChannelParticipation)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	cases := []struct {
		name, text string
		env        []string
		want       string
	}{
		{"unknown key", sampleConfig + "Bogus: 1\n", nil, "field Bogus not found"},
		{"tls off", strings.Replace(sampleConfig, "    Enabled: true\n    PrivateKey: tls/server.key\n    Certificate: tls/server.crt\n    RootCAs", "    Enabled: false\n    PrivateKey: tls/server.key\n    Certificate: tls/server.crt\n    RootCAs", 1), nil, "General.TLS.Enabled"},
		{"no msp id", strings.Replace(sampleConfig, "LocalMSPID: OrdererMSP", "LocalMSPID: ''", 1), nil, "General.LocalMSPID: is required"},
		{"bad env int", sampleConfig, []string{"ORDERER_GENERAL_LISTENPORT=abc"}, "ORDERER_GENERAL_LISTENPORT"},
		{"bad port", sampleConfig, []string{"ORDERER_GENERAL_LISTENPORT=70000"}, "General.ListenPort"},
		{"system channel", sampleConfig, []string{"ORDERER_GENERAL_BOOTSTRAPMETHOD=file"}, "General.BootstrapMethod"},
		{"admin without mtls", sampleConfig, []string{"ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=false"}, "Admin.TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tc.text), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one mentioning %q", err, tc.want)
			}
		})
	}
}
