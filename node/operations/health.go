package operations

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Status strings of /healthz, as Fabric's health handler writes them.
const (
	StatusOK          = "OK"
	StatusUnavailable = "Service Unavailable"
)

// FailedCheck names one unhealthy component.
type FailedCheck struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// HealthStatus is the /healthz body.
type HealthStatus struct {
	Status       string        `json:"status"`
	Time         time.Time     `json:"time"`
	FailedChecks []FailedCheck `json:"failed_checks,omitempty"`
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notAllowed(w, r, http.MethodGet)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.CheckTimeout)
	defer cancel()
	failed := s.runChecks(ctx)
	status := HealthStatus{Status: StatusOK, Time: time.Now().UTC()}
	code := http.StatusOK
	if len(failed) > 0 {
		status.Status, status.FailedChecks, code = StatusUnavailable, failed, http.StatusServiceUnavailable
		s.logger.Warn("health check failed", "failed_checks", failed)
	}
	sendJSON(w, code, status)
}

// runChecks runs every checker concurrently and returns the failures sorted
// by component. A checker still running when ctx ends counts as failed.
func (s *Server) runChecks(ctx context.Context) []FailedCheck {
	s.mu.Lock()
	checkers := make(map[string]Checker, len(s.checkers))
	for name, c := range s.checkers {
		checkers[name] = c
	}
	s.mu.Unlock()

	var (
		mu     sync.Mutex
		failed []FailedCheck
		wg     sync.WaitGroup
	)
	for name, c := range checkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := check(ctx, c); err != nil {
				mu.Lock()
				failed = append(failed, FailedCheck{Component: name, Reason: err.Error()})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(failed, func(i, j int) bool { return failed[i].Component < failed[j].Component })
	return failed
}

// check runs one checker, turning a panic or an overrun into a failure so
// one broken component cannot take the probe down with it.
func check(ctx context.Context, c Checker) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("health checker panicked: %v", p)
			}
		}()
		done <- c.HealthCheck(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("health check did not finish: %w", ctx.Err())
	}
}
