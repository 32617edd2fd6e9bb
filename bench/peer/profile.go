package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxProfileBytes bounds what is read of one CPU profile.
const maxProfileBytes = 64 << 20

// CaptureCPUProfiles fetches a CPU profile of the given length from every
// node's /debug/pprof/profile concurrently and writes dir/<name>.pprof.
// The nodes must run with profiling enabled (peer.profile.enabled,
// General.Profile.Enabled). It returns the files written and one error per
// node that failed.
func CaptureCPUProfiles(ctx context.Context, nodes []Node, length time.Duration, dir string) ([]string, error) {
	secs := int(length / time.Second)
	if secs < 1 {
		return nil, fmt.Errorf("profile: length %s is shorter than a second", length)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	client := &http.Client{Timeout: length + 30*time.Second}
	var (
		mu    sync.Mutex
		files []string
		errs  []error
		wg    sync.WaitGroup
	)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(dir, n.Name+".pprof")
			err := fetchProfile(ctx, client, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", n.OpsURL, secs), path)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("profile of %s: %w", n.Name, err))
				return
			}
			files = append(files, path)
		}()
	}
	wg.Wait()
	return files, errors.Join(errs...)
}

func fetchProfile(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s answered %s (profiling off?): %s", url, resp.Status, body)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxProfileBytes))
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
