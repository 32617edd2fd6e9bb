package blockstore

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

const childDirEnv = "WEFT_BLOCKSTORE_CRASH_DIR"

// TestCrashChild is the body of the child process TestKillDuringAppend
// starts; run directly it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		return
	}
	report := os.NewFile(3, "report")
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	prev, n := s.LastHeaderHash(), s.Height()
	for {
		b := genBlock(n, prev)
		if err := s.Append(b); err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(3)
		}
		// Reported only after Append returned: this block must survive.
		fmt.Fprintf(report, "%d\n", n)
		prev, n = HeaderHash(b.Header), n+1
	}
}

// TestKillDuringAppend SIGKILLs a child appending in a loop at a random
// moment, several times over, and checks every block the child reported
// is present and intact after reopening.
func TestKillDuringAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := 0; round < 5; round++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
		cmd.ExtraFiles = []*os.File{w}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		reported := make(chan int64, 1)
		started := make(chan struct{})
		go func() {
			last := int64(-1)
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				v, err := strconv.ParseInt(sc.Text(), 10, 64)
				if err != nil {
					break
				}
				if last < 0 {
					close(started)
				}
				last = v
			}
			if last < 0 {
				close(started)
			}
			reported <- last
		}()
		<-started
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		last := <-reported
		r.Close()
		if last < 0 {
			t.Fatalf("round %d: child reported no block (see stderr)", round)
		}

		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		h := s.Height()
		if h < uint64(last)+1 {
			t.Fatalf("round %d: child reported block %d appended, store height is %d", round, last, h)
		}
		// Everything present, including any block written but not yet
		// reported, must be exactly the deterministic chain.
		checkBlocks(t, s, genChain(int(h)))
		t.Logf("round %d: child reported up to %d, store height %d", round, last, h)
		s.Close()
	}
}
