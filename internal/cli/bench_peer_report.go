package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	benchpeer "weft/bench/peer"
)

// benchPeerReport is a run of `weft bench` (JSON keys as the issue names
// them; durations in ms, crypto costs in µs).
type benchPeerReport struct {
	Network       string   `json:"network"`
	Channel       string   `json:"channel"`
	Chaincode     string   `json:"chaincode"`
	Endorsers     []string `json:"endorsers"`
	Peers         int      `json:"peers"`
	Clients       int      `json:"clients"`
	Window        int      `json:"window"`
	Committed     int      `json:"committed"`
	Failed        int      `json:"failed"`
	ElapsedSec    float64  `json:"elapsed_s"`
	CommittedTPS  float64  `json:"committed_tps"`
	P50Ms         float64  `json:"p50_ms"`
	P99Ms         float64  `json:"p99_ms"`
	MaxMs         float64  `json:"max_ms"`
	EndorseMs     float64  `json:"endorse_mean_ms"`
	SubmitMs      float64  `json:"submit_mean_ms"`
	CommitMs      float64  `json:"commit_status_mean_ms"`
	Blocks        uint64   `json:"blocks"`
	TxPerBlock    float64  `json:"tx_per_block"`
	Cores         int      `json:"cores"`
	SignUs        float64  `json:"ecdsa_sign_us"`
	VerifyUs      float64  `json:"ecdsa_verify_us"`
	SignsPerTx    float64  `json:"signs_per_tx"`
	VerifiesPerTx float64  `json:"verifies_per_tx"`
	CeilingTPS    float64  `json:"ceiling_tps"`
	Efficiency    float64  `json:"efficiency"`
	// CPUMsPerTx is user+system CPU time per committed transaction, per
	// process kind (orderer, peer, chaincode, bench = this process) and in
	// total: unlike tx/s it hardly depends on what else the machine runs.
	CPUMsPerTx map[string]float64 `json:"cpu_ms_per_tx,omitempty"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute averages at the end.
	LoadAvg  string   `json:"load_avg,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	Profiles []string `json:"profiles,omitempty"`
}

func newBenchPeerReport(f *benchPeerFlags, network, chaincode string, endorsers []string, peers, cores int, cost benchpeer.CryptoCost, res *benchpeer.Result) (*benchPeerReport, error) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	// Too few blocks to tell means at least one transaction per block.
	shape := benchpeer.Shape{Endorsers: len(endorsers), Peers: peers, TxPerBlock: max(res.TxPerBlock, 1)}
	ceiling, err := benchpeer.Ceiling(cost, shape, cores)
	if err != nil {
		return nil, err
	}
	return &benchPeerReport{
		Network: network, Channel: f.channel, Chaincode: chaincode, Endorsers: endorsers, Peers: peers, Clients: f.clients, Window: f.window,
		Committed: res.Committed, Failed: res.Failed, ElapsedSec: res.Elapsed.Seconds(), CommittedTPS: res.CommittedTPS,
		P50Ms: ms(res.P50), P99Ms: ms(res.P99), MaxMs: ms(res.Max),
		EndorseMs: ms(res.Endorse), SubmitMs: ms(res.Submit), CommitMs: ms(res.Commit),
		Blocks: res.Blocks, TxPerBlock: res.TxPerBlock, Cores: cores,
		SignUs: us(cost.Sign), VerifyUs: us(cost.Verify), SignsPerTx: shape.Signs(), VerifiesPerTx: shape.Verifies(),
		CeilingTPS: ceiling, Efficiency: res.CommittedTPS / ceiling, Errors: res.Errors,
	}, nil
}

// setCPU fills CPUMsPerTx from the CPU time each kind used during the run.
func (r *benchPeerReport) setCPU(cpu benchpeer.CPUTimes, committed int) {
	if len(cpu) == 0 || committed <= 0 {
		return
	}
	r.CPUMsPerTx = map[string]float64{}
	var total time.Duration
	for kind, d := range cpu {
		r.CPUMsPerTx[kind] = float64(d.Microseconds()) / 1000 / float64(committed)
		total += d
	}
	r.CPUMsPerTx["total"] = float64(total.Microseconds()) / 1000 / float64(committed)
}

func writeBenchPeer(w io.Writer, format string, r *benchPeerReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprintf(w, `network:     %s
workload:    %d clients × %d in flight on %s/%s, endorsed by %s
committed:   %d transactions (%d failed) in %.1fs, %d blocks (%.1f tx/block)
throughput:  %.0f committed tx/s
latency:     p50 %.1fms, p99 %.1fms, max %.1fms (mean: endorse %.1fms, submit %.1fms, commit status %.1fms)
ECDSA:       sign %.1fµs, verify %.1fµs; %.2f signs + %.2f verifies per transaction (%d peers) on %d cores
ceiling:     %.0f tx/s (ECDSA only)
efficiency:  %.1f%%
`, r.Network, r.Clients, r.Window, r.Channel, r.Chaincode, strings.Join(r.Endorsers, ", "),
		r.Committed, r.Failed, r.ElapsedSec, r.Blocks, r.TxPerBlock,
		r.CommittedTPS, r.P50Ms, r.P99Ms, r.MaxMs, r.EndorseMs, r.SubmitMs, r.CommitMs,
		r.SignUs, r.VerifyUs, r.SignsPerTx, r.VerifiesPerTx, r.Peers, r.Cores, r.CeilingTPS, 100*r.Efficiency)
	if err != nil {
		return err
	}
	if len(r.CPUMsPerTx) > 0 {
		kinds := make([]string, 0, len(r.CPUMsPerTx))
		for k := range r.CPUMsPerTx {
			if k != "total" {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
		parts := make([]string, 0, len(kinds))
		for _, k := range kinds {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, r.CPUMsPerTx[k]))
		}
		if _, err := fmt.Fprintf(w, "cpu/tx:      %.2fms (%s)\n", r.CPUMsPerTx["total"], strings.Join(parts, ", ")); err != nil {
			return err
		}
	}
	if r.LoadAvg != "" {
		if _, err := fmt.Fprintf(w, "load:        %s\n", r.LoadAvg); err != nil {
			return err
		}
	}
	for _, e := range r.Errors {
		if _, err := fmt.Fprintf(w, "error:       %s\n", e); err != nil {
			return err
		}
	}
	for _, p := range r.Profiles {
		if _, err := fmt.Fprintf(w, "profile:     %s\n", p); err != nil {
			return err
		}
	}
	return nil
}
