package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one supervised OS process of the network: a node or a chaincode.
// Its pid file and log live under the data directory, so `weft stop`,
// `weft status` and `weft logs` work from any later invocation.
type proc struct {
	name string
	// kind is kindCA, kindOrderer or kindPeer for nodes, "" otherwise.
	kind string
	path string
	args []string
	env  []string
	dir  string
	// health is the URL that answers 200 once the process serves.
	health string
	// listens are the addresses it binds, checked free before a start.
	listens []string
}

// Node kinds, as `weft status` shows them.
const (
	kindCA      = "ca"
	kindOrderer = "orderer"
	kindPeer    = "peer"
)

func pidFile(dataDir, name string) string { return filepath.Join(dataDir, "run", name+".pid") }
func logFile(dataDir, name string) string { return filepath.Join(dataDir, "logs", name+".log") }

// running returns the pid of name if its pid file names a live process.
func running(dataDir, name string) (int, bool) {
	b, err := os.ReadFile(pidFile(dataDir, name))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0, false
	}
	return pid, true
}

// start launches p detached from this process (its own session), so it
// survives `weft up -d` returning; output goes to the log file.
func start(dataDir string, p proc) (int, error) {
	if pid, ok := running(dataDir, p.name); ok {
		return pid, nil
	}
	for _, d := range []string{filepath.Dir(pidFile(dataDir, p.name)), filepath.Dir(logFile(dataDir, p.name))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	lf, err := os.OpenFile(logFile(dataDir, p.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n===== %s start %s =====\n", p.name, time.Now().Format(time.RFC3339))
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.name, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it if it dies while we still run
	if err := os.WriteFile(pidFile(dataDir, p.name), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return pid, err
	}
	return pid, nil
}

// stop sends SIGTERM to name's process group and waits for it to exit
// (SIGKILL after the timeout).
func stop(dataDir, name string, timeout time.Duration) error {
	pid, ok := running(dataDir, name)
	if !ok {
		os.Remove(pidFile(dataDir, name))
		return nil
	}
	syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, ok := running(dataDir, name); !ok {
			os.Remove(pidFile(dataDir, name))
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	os.Remove(pidFile(dataDir, name))
	return nil
}

// waitHealthy polls p's health URL until it answers 200.
func waitHealthy(ctx context.Context, dataDir string, p proc) error {
	if p.health == "" {
		return nil
	}
	var last error
	for {
		if _, ok := running(dataDir, p.name); !ok {
			return fmt.Errorf("%s exited; see %s", p.name, logFile(dataDir, p.name))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.health, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("health: %s", resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s did not become healthy; see %s", p.name, logFile(dataDir, p.name)), last)
		case <-time.After(150 * time.Millisecond):
		}
	}
}
