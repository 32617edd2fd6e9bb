// Package harness runs weft nodes as real OS processes on loopback for
// integration tests and benchmarks: it builds the weft binary once,
// generates a network, starts and kills nodes, and gives clients for the
// orderer's Broadcast, Deliver and participation APIs.
package harness

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds ./cmd/weft once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "weft-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "weft")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/weft")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreePortBase finds a base port such that base+offset is free for every
// given offset (the ports a test network will bind). Bases are drawn below
// Linux's ephemeral range (32768+), where outgoing connections would make
// ports come and go, and away from the fixed bases test/runner uses
// (17050, 27050, 37050, 47050 and their +3000).
func FreePortBase(t testing.TB, offsets []int) int {
	t.Helper()
	for try := 0; try < 200; try++ {
		base := 10000 + rand.IntN(60)*100 // 10000..15900
		if rand.IntN(2) == 1 {
			base = 21000 + rand.IntN(50)*100 // 21000..25900
		}
		ok := true
		var ls []net.Listener
		for _, off := range offsets {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range found")
	return 0
}

// networkOffsets lists the ports (relative to base) of a network with
// the given orderer count and peers per org, laid out as gen/network
// Endpoints{OrdererBase: base, PeerBase: base+51, OpsBase: base+5} does.
func networkOffsets(orderers int, peersPerOrg []int) []int {
	var out []int
	for i := 0; i < orderers; i++ {
		out = append(out, 100*i, 100*i+3, 5+100*i)
	}
	for k, n := range peersPerOrg {
		for p := 0; p < n; p++ {
			out = append(out, 51+2000*k+100*p, 5+1000+100*k+p)
		}
	}
	return out
}

// Process is one running node.
type Process struct {
	Name string
	// Path is the program to run; empty means the weft binary.
	Path string
	Dir  string
	Args []string
	Env  []string
	Log  string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start launches the process; output goes to its log file (appended, so
// restarts keep the history).
func (p *Process) Start(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n===== start %s %s =====\n", p.Name, time.Now().Format(time.RFC3339Nano))
	path := p.Path
	if path == "" {
		path = Binary(t)
	}
	cmd := exec.Command(path, p.Args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", p.Name, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	go func() { cmd.Wait(); f.Close() }()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits (SIGKILL after 10s).
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() {
		for cmd.ProcessState == nil {
			time.Sleep(20 * time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Running reports whether the process was started and not stopped.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && p.cmd.ProcessState == nil
}

// Tail returns the last lines of the process log, for failure messages.
func (p *Process) Tail(lines int) string {
	b, _ := os.ReadFile(p.Log)
	all := strings.Split(string(b), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// WaitHTTP polls url until it answers 200 or the timeout passes.
func WaitHTTP(ctx context.Context, url string) error {
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s %s", url, resp.Status, body.String())
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
