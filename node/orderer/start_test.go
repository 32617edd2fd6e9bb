package orderer

import (
	"log/slog"
	"strings"
	"testing"
)

// TestStartFailureIsAnError: an orderer that cannot start reports why and
// releases what it had opened; it must not crash while cleaning up.
func TestStartFailureIsAnError(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, sampleConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	// sampleConfig's MSP directory does not exist next to the file.
	n, err := Start(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || n != nil {
		t.Fatalf("Start = %v, %v; want an error", n, err)
	}
	if !strings.Contains(err.Error(), "General.LocalMSPDir") {
		t.Fatalf("error %q does not name General.LocalMSPDir", err)
	}
}
