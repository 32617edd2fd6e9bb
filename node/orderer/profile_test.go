package orderer

import (
	"strings"
	"testing"
)

func TestProfileSetting(t *testing.T) {
	enabled := strings.Replace(sampleConfig, "  LocalMSPID: OrdererMSP\n", "  LocalMSPID: OrdererMSP\n  Profile:\n    Enabled: true\n", 1)
	cases := []struct {
		name string
		text string
		env  []string
		want bool
	}{
		{"off by default", sampleConfig, nil, false},
		{"from the file", enabled, nil, true},
		{"from the environment", sampleConfig, []string{"ORDERER_GENERAL_PROFILE_ENABLED=true"}, true},
		{"environment overrides the file", enabled, []string{"ORDERER_GENERAL_PROFILE_ENABLED=false"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(writeConfig(t, tc.text), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.General.Profile.Enabled != tc.want {
				t.Fatalf("General.Profile.Enabled = %v, want %v", c.General.Profile.Enabled, tc.want)
			}
		})
	}
	if _, err := LoadConfig(writeConfig(t, sampleConfig), []string{"ORDERER_GENERAL_PROFILE_ENABLED=maybe"}); err == nil {
		t.Error("ORDERER_GENERAL_PROFILE_ENABLED=maybe accepted")
	}
	typo := strings.Replace(enabled, "  Profile:\n    Enabled: true\n", "  Profile:\n    Enable: true\n", 1)
	if _, err := LoadConfig(writeConfig(t, typo), nil); err == nil || !strings.Contains(err.Error(), "Enable") {
		t.Errorf("misspelt Profile key: %v", err)
	}
}
