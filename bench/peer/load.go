package peer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"weft/client"
)

// DefaultArgs is the transaction the benchmark sends: kvcc's blind write
// of a fresh key, so no two transactions conflict.
var DefaultArgs = []string{"put", "{key}", "{value}"}

// Args builds a transaction's arguments from a template in which "{key}"
// is replaced by a key unique to the run, worker and sequence number and
// "{value}" by valueSize bytes of filler.
type Args struct {
	Template  []string
	ValueSize int
	// Prefix makes keys unique across runs against the same ledger.
	Prefix string
}

// Validate checks the template.
func (a Args) Validate() error {
	if len(a.Template) == 0 || a.Template[0] == "" {
		return errors.New("args: the first argument (the function name) must not be empty")
	}
	if a.ValueSize < 0 {
		return fmt.Errorf("args: value size %d must not be negative", a.ValueSize)
	}
	return nil
}

func (a Args) build(worker, seq int) [][]byte {
	key := fmt.Sprintf("%s%d-%d", a.Prefix, worker, seq)
	out := make([][]byte, len(a.Template))
	for i, t := range a.Template {
		switch t {
		case "{key}":
			out[i] = []byte(key)
		case "{value}":
			v := make([]byte, a.ValueSize)
			for j := range v {
				v[j] = 'a' + byte((seq+j)%26)
			}
			out[i] = v
		default:
			out[i] = []byte(strings.ReplaceAll(t, "{key}", key))
		}
	}
	return out
}

// Run is one closed-loop measurement: every client keeps Window
// transactions in flight, each worker submitting one transaction after
// another, until Duration has passed.
type Run struct {
	// Gateways are the clients, typically one connection each, spread over
	// the orgs' peers and users.
	Gateways []*client.Gateway
	// Window is the transactions each client keeps in flight (default 1).
	Window    int
	Duration  time.Duration
	Channel   string
	Chaincode string
	// Endorsers are the MSP IDs that must endorse; nil lets the gateway
	// follow the chaincode's endorsement policy.
	Endorsers []string
	Args      Args
	// Height reports the channel height to count blocks; nil leaves them 0.
	Height func(context.Context) (uint64, error)
}

// Result is what a run measured. Latency runs from building the proposal
// to the commit status; a transaction counts as committed only when its
// status is VALID.
type Result struct {
	Committed, Failed int
	Elapsed           time.Duration
	CommittedTPS      float64
	P50, P99, Max     time.Duration
	// Endorse, Submit and Commit are the mean time of each step.
	Endorse, Submit, Commit time.Duration
	Blocks                  uint64
	// TxPerBlock counts every transaction the run put into blocks.
	TxPerBlock float64
	// Errors are the first few failures.
	Errors []string
}

type sample struct {
	total, endorse, submit, commit time.Duration
}

// Do runs the load. It fails when nothing committed; individual failures
// are counted and the first few kept in Result.Errors.
func (r Run) Do(ctx context.Context) (*Result, error) {
	switch {
	case len(r.Gateways) == 0:
		return nil, errors.New("run: no gateways")
	case r.Window < 0:
		return nil, fmt.Errorf("run: window %d must not be negative", r.Window)
	case r.Duration <= 0:
		return nil, fmt.Errorf("run: duration %s must be positive", r.Duration)
	case r.Channel == "" || r.Chaincode == "":
		return nil, errors.New("run: channel and chaincode are required")
	}
	if err := r.Args.Validate(); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	var before uint64
	if r.Height != nil {
		h, err := r.Height(ctx)
		if err != nil {
			return nil, fmt.Errorf("run: height before: %w", err)
		}
		before = h
	}
	var (
		mu      sync.Mutex
		samples []sample
		failed  int
		errList []string
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failed++
		if len(errList) < 5 {
			errList = append(errList, err.Error())
		}
	}
	window := max(r.Window, 1)
	start := time.Now()
	deadline := start.Add(r.Duration)
	var wg sync.WaitGroup
	for w := 0; w < len(r.Gateways)*window; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := r.Gateways[w/window]
			var mine []sample
			for seq := 0; time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
				s, err := r.one(ctx, g, r.Args.build(w, seq))
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					continue
				}
				mine = append(mine, s)
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Committed: len(samples), Failed: failed, Elapsed: elapsed, Errors: errList}
	if res.Committed == 0 {
		return res, fmt.Errorf("run: no transaction committed (%d failed): %s", failed, strings.Join(errList, "; "))
	}
	res.CommittedTPS = float64(res.Committed) / elapsed.Seconds()
	totals := make([]time.Duration, len(samples))
	var e, s, c time.Duration
	for i, x := range samples {
		totals[i] = x.total
		e, s, c = e+x.endorse, s+x.submit, c+x.commit
	}
	n := time.Duration(len(samples))
	res.Endorse, res.Submit, res.Commit = e/n, s/n, c/n
	res.P50, res.P99, res.Max = percentiles(totals)
	if r.Height != nil {
		after, err := r.Height(ctx)
		if err != nil {
			return nil, fmt.Errorf("run: height after: %w", err)
		}
		if after > before {
			res.Blocks = after - before
			res.TxPerBlock = float64(res.Committed+res.Failed) / float64(res.Blocks)
		}
	}
	return res, nil
}

// one submits one transaction and waits for its commit.
func (r Run) one(ctx context.Context, g *client.Gateway, args [][]byte) (sample, error) {
	t0 := time.Now()
	tx, err := g.Endorse(ctx, r.Channel, r.Chaincode, r.Endorsers, args...)
	if err != nil {
		return sample{}, err
	}
	t1 := time.Now()
	if err := g.SubmitAsync(ctx, tx); err != nil {
		return sample{}, err
	}
	t2 := time.Now()
	st, err := g.CommitStatus(ctx, r.Channel, tx.ID)
	if err != nil {
		return sample{}, err
	}
	if !st.Valid() {
		return sample{}, fmt.Errorf("tx %s committed as %s in block %d", tx.ID, st.Code, st.Block)
	}
	t3 := time.Now()
	return sample{total: t3.Sub(t0), endorse: t1.Sub(t0), submit: t2.Sub(t1), commit: t3.Sub(t2)}, nil
}

// percentiles returns the nearest-rank 50th and 99th percentiles and the
// maximum of d; d is reordered.
func percentiles(d []time.Duration) (p50, p99, top time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return rank(0.50), rank(0.99), d[len(d)-1]
}
