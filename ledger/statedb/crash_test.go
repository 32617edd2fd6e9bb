package statedb

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const childPathEnv = "WEFT_STATEDB_CRASH_PATH"

const crashKeysPerBlock = 40

// crashBatch is the deterministic batch the child commits as block n.
func crashBatch(n uint64) *UpdateBatch {
	b := NewUpdateBatch()
	for i := uint64(0); i < crashKeysPerBlock; i++ {
		b.Put("cc", fmt.Sprintf("b%06d-%02d", n, i), []byte(fmt.Sprintf(`{"block":%d,"i":%d}`, n, i)), nil, Version{n, i})
	}
	b.Put("cc", "counter", []byte(strconv.FormatUint(n, 10)), nil, Version{n, crashKeysPerBlock})
	return b
}

// TestCrashChild is the body of the child process TestKillDuringCommit
// starts; run directly it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(childPathEnv)
	if path == "" {
		return
	}
	report := os.NewFile(3, "report")
	db, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	n := uint64(1)
	if sp, ok := db.Savepoint(); ok {
		n = sp + 1
	}
	for ; ; n++ {
		if err := db.Commit(crashBatch(n), n); err != nil {
			fmt.Fprintln(os.Stderr, "child commit:", err)
			os.Exit(3)
		}
		// Reported only after Commit returned: this block must survive.
		fmt.Fprintf(report, "%d\n", n)
	}
}

// TestKillDuringCommit SIGKILLs a child committing blocks in a loop at a
// random moment, several times, and checks after each reopen that every
// reported block is present, that the savepoint matches the data exactly
// and that nothing of the block after the savepoint is visible.
func TestKillDuringCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for round := 0; round < 5; round++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), childPathEnv+"="+path)
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
					break // a torn last line: not a report
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
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		last := <-reported
		r.Close()
		if last < 0 {
			t.Fatalf("round %d: child reported no commit (see stderr)", round)
		}

		db, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		sp, ok := db.Savepoint()
		if !ok || sp < uint64(last) {
			t.Fatalf("round %d: child reported block %d committed, savepoint %d (ok=%v)", round, last, sp, ok)
		}
		checkCrashState(t, db, sp)
		t.Logf("round %d: reported up to %d, savepoint %d", round, last, sp)
		db.Close()
	}
}

func checkCrashState(t *testing.T, db *DB, sp uint64) {
	t.Helper()
	c, err := db.Get("cc", "counter")
	if err != nil || c == nil || string(c.Value) != strconv.FormatUint(sp, 10) || c.Version != (Version{sp, crashKeysPerBlock}) {
		t.Fatalf("counter = %+v (%v), want block %d", c, err, sp)
	}
	h, err := db.History("cc", "counter")
	if err != nil || uint64(len(h)) != sp || h[0].BlockNum != sp {
		t.Fatalf("counter history has %d entries (%v), want %d newest %d", len(h), err, sp, sp)
	}
	it, err := db.GetRange("cc", "b", "c")
	kvs := drain(t, it, err)
	if uint64(len(kvs)) != sp*crashKeysPerBlock {
		t.Fatalf("%d block keys, want %d for savepoint %d", len(kvs), sp*crashKeysPerBlock, sp)
	}
	for j, kv := range kvs {
		n, i := uint64(j/crashKeysPerBlock)+1, uint64(j%crashKeysPerBlock)
		want := fmt.Sprintf(`{"block":%d,"i":%d}`, n, i)
		if kv.Key != fmt.Sprintf("b%06d-%02d", n, i) || string(kv.Value) != want || kv.Version != (Version{n, i}) {
			t.Fatalf("entry %d = %q %q %v, want block %d key %d", j, kv.Key, kv.Value, kv.Version, n, i)
		}
	}
	if vv, err := db.Get("cc", fmt.Sprintf("b%06d-%02d", sp+1, 0)); err != nil || vv != nil {
		t.Fatalf("block %d past savepoint %d is visible: %+v %v", sp+1, sp, vv, err)
	}
}
