package peer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimalCore = `peer:
  id: peer0.org1.example.com
  tls:
    enabled: true
    cert: {file: tls/server.crt}
    key: {file: tls/server.key}
  mspConfigPath: msp
  localMspId: Org1MSP
  fileSystemPath: data
`

func TestProfileSetting(t *testing.T) {
	enabled := minimalCore + "  profile:\n    enabled: true\n"
	cases := []struct {
		name string
		text string
		env  []string
		want bool
	}{
		{"off by default", minimalCore, nil, false},
		{"from the file", enabled, nil, true},
		{"from the environment", minimalCore, []string{"CORE_PEER_PROFILE_ENABLED=true"}, true},
		{"environment overrides the file", enabled, []string{"CORE_PEER_PROFILE_ENABLED=false"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(writeCore(t, tc.text), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Peer.Profile.Enabled != tc.want {
				t.Fatalf("peer.profile.enabled = %v, want %v", c.Peer.Profile.Enabled, tc.want)
			}
		})
	}
	if _, err := LoadConfig(writeCore(t, minimalCore), []string{"CORE_PEER_PROFILE_ENABLED=maybe"}); err == nil {
		t.Error("CORE_PEER_PROFILE_ENABLED=maybe accepted")
	}
	if _, err := LoadConfig(writeCore(t, minimalCore+"  profile:\n    enable: true\n"), nil); err == nil || !strings.Contains(err.Error(), "enable") {
		t.Errorf("misspelt profile key: %v", err)
	}
}

func writeCore(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "core.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
