package peer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Kinds of processes whose CPU time a run accounts for. KindBench is this
// process: the clients, and the chaincode of a throw-away network.
const (
	KindOrderer   = "orderer"
	KindPeer      = "peer"
	KindChaincode = "chaincode"
	KindBench     = "bench"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// Linux has fixed it at 100 for user space on every architecture.
const clockTick = 10 * time.Millisecond

// CPUTimes is user+system CPU time used so far, summed per process kind.
// Wall-clock throughput on a shared machine depends on what else runs;
// CPU time per transaction does not, so it is what optimisations are
// judged by.
type CPUTimes map[string]time.Duration

// Sub is the CPU time used between an earlier sample and t, per kind
// present in both.
func (t CPUTimes) Sub(earlier CPUTimes) CPUTimes {
	out := CPUTimes{}
	for k, v := range t {
		if e, ok := earlier[k]; ok {
			out[k] = v - e
		}
	}
	return out
}

// SampleCPU reads the CPU time of this process and of the network's
// nodes: the processes StartNetwork started, else those a runner's pid
// files under the data directory name (orderers and peers by the spec's
// host names, anything else counts as chaincode). Nodes it cannot see
// are left out, which the caller notices as a missing kind.
func (n *Network) SampleCPU() (CPUTimes, error) {
	self, err := procCPU("self")
	if err != nil {
		return nil, err
	}
	out := CPUTimes{KindBench: self}
	add := func(kind, pid string) error {
		d, err := procCPU(pid)
		if err != nil {
			return err
		}
		out[kind] += d
		return nil
	}
	if len(n.procs) > 0 {
		for _, p := range n.procs {
			if err := add(p.kind, strconv.Itoa(p.cmd.Process.Pid)); err != nil {
				return nil, fmt.Errorf("cpu of %s: %w", p.name, err)
			}
		}
		return out, nil
	}
	kinds := map[string]string{}
	for _, h := range n.Spec.OrdererHosts() {
		kinds[h] = KindOrderer
	}
	for k := range n.Spec.Orgs {
		for _, h := range n.Spec.Orgs[k].PeerHosts() {
			kinds[h] = KindPeer
		}
	}
	files, _ := filepath.Glob(filepath.Join(n.Layout.Dir, "run", "*.pid"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid := strings.TrimSpace(string(raw))
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		kind, ok := kinds[name]
		if !ok {
			kind = KindChaincode
		}
		// A stale pid file names no process; that node is not measured.
		if err := add(kind, pid); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cpu of %s: %w", name, err)
		}
	}
	return out, nil
}

// procCPU is utime+stime of /proc/<pid>/stat.
func procCPU(pid string) (time.Duration, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(raw))
}

// parseStatCPU takes utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from
// the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no ')' after the command name")
	}
	// After ')': state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(f))
	}
	var total time.Duration
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return 0, fmt.Errorf("stat: utime/stime %q: %w", s, err)
		}
		total += time.Duration(v) * clockTick
	}
	return total, nil
}
