package orderer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
)

// maxMetricsBody bounds what is read of a /metrics page.
const maxMetricsBody = 8 << 20

// Metric reads the value of a per-channel gauge or counter (Fabric's
// names, e.g. ledger_blockchain_height) from the Prometheus page at
// opsURL/metrics.
func Metric(ctx context.Context, client *http.Client, opsURL, name, channel string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, opsURL+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("metric %s: %w", name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metric %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metric %s: %s answered %s", name, opsURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetricsBody))
	if err != nil {
		return 0, fmt.Errorf("metric %s: read %s: %w", name, opsURL, err)
	}
	return parseMetric(body, name, channel)
}

func parseMetric(page []byte, name, channel string) (float64, error) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{channel="` + regexp.QuoteMeta(channel) + `"\} (\S+)$`)
	m := re.FindSubmatch(page)
	if m == nil {
		return 0, fmt.Errorf("metric %s{channel=%q}: not on the page", name, channel)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, fmt.Errorf("metric %s{channel=%q}: value %q: %w", name, channel, m[1], err)
	}
	return v, nil
}

// MetricHeight is the channel's ledger height as the node reports it.
func MetricHeight(ctx context.Context, client *http.Client, opsURL, channel string) (uint64, error) {
	v, err := Metric(ctx, client, opsURL, "ledger_blockchain_height", channel)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("ledger_blockchain_height{channel=%q}: negative value %v", channel, v)
	}
	return uint64(v), nil
}
