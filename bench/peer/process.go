package peer

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// process is one node started as `weft node orderer|peer`.
type process struct {
	name, log, opsURL string
	// kind is KindOrderer or KindPeer.
	kind string
	cmd  *exec.Cmd
	done chan struct{}
}

func startProcess(binary, kind, name, logPath, opsURL string, env []string, args ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("network: %s log: %w", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("network: start %s: %w", name, err)
	}
	p := &process{kind: kind, name: name, log: logPath, opsURL: opsURL, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// stop sends SIGINT (the nodes stop cleanly on it), then SIGKILL after
// 10 s.
func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitHealthy polls /healthz until it answers 200.
func (p *process) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.opsURL+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network: %s not healthy (log %s): %w", p.name, p.log, ctx.Err())
		case <-p.done:
			return fmt.Errorf("network: %s exited (log %s)", p.name, p.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
