package peer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weft/node/operations"
)

func opsServer(t *testing.T, profiling bool) string {
	t.Helper()
	s := operations.New(operations.Options{ListenAddress: "127.0.0.1:0", Profiling: profiling})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return "http://" + s.Addr()
}

func TestCaptureCPUProfiles(t *testing.T) {
	dir := t.TempDir()
	on, off := opsServer(t, true), opsServer(t, false)
	files, err := CaptureCPUProfiles(context.Background(), []Node{{"on", on}, {"off", off}}, time.Second, dir)
	if err == nil || !strings.Contains(err.Error(), "profile of off") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("node without profiling: %v", err)
	}
	if len(files) != 1 || files[0] != filepath.Join(dir, "on.pprof") {
		t.Fatalf("files %v", files)
	}
	data, err := os.ReadFile(files[0])
	// A CPU profile is gzip-compressed protobuf.
	if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("profile file: %d bytes, %v", len(data), err)
	}
	if _, err := CaptureCPUProfiles(context.Background(), nil, 500*time.Millisecond, dir); err == nil {
		t.Error("sub-second profile accepted")
	}
}
