package peer

import (
	"log/slog"
	"strings"
	"testing"
)

// TestStartFailureIsAnError: a peer that cannot start reports why and
// releases what it had opened; it must not crash while cleaning up.
func TestStartFailureIsAnError(t *testing.T) {
	cases := []struct {
		name, core, want string
	}{
		{"msp directory missing", minimalCore, "peer.mspConfigPath"},
		{"msp id missing", strings.Replace(minimalCore, "localMspId: Org1MSP", "localMspId: ''", 1), "localMspId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(writeCore(t, c.core), nil)
			if err != nil {
				if strings.Contains(err.Error(), c.want) {
					return // refused even earlier, also fine
				}
				t.Fatal(err)
			}
			n, err := Start(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil || n != nil {
				t.Fatalf("Start = %v, %v; want an error", n, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name %q", err, c.want)
			}
		})
	}
}
