package blockcutter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// env builds a marshaled Envelope whose counted size is exactly n bytes
// (payload n-1, signature 1) and whose payload names it, so batches can be
// compared by name.
func env(name string, n int) []byte {
	if n < len(name)+1 {
		panic("env: size too small for name")
	}
	payload := []byte(name + strings.Repeat(".", n-1-len(name)))
	b, err := proto.Marshal(&common.Envelope{Payload: payload, Signature: []byte{'s'}})
	if err != nil {
		panic(err)
	}
	return b
}

func name(b []byte) string {
	var e common.Envelope
	if err := proto.Unmarshal(b, &e); err != nil {
		return "?"
	}
	return strings.TrimRight(string(e.Payload), ".")
}

func names(batches [][][]byte) string {
	var parts []string
	for _, batch := range batches {
		var ns []string
		for _, m := range batch {
			ns = append(ns, name(m))
		}
		parts = append(parts, "["+strings.Join(ns, " ")+"]")
	}
	return strings.Join(parts, "")
}

func cfg(count, preferred uint32) Config {
	return Config{MaxMessageCount: count, AbsoluteMaxBytes: 1 << 20, PreferredMaxBytes: preferred, BatchTimeout: 2 * time.Second}
}

func TestMessageSize(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"envelope", env("a", 10), 10},
		{"empty", nil, 0},
		{"payload only", mustMarshal(&common.Envelope{Payload: []byte("xyz")}), 3},
		{"not protobuf counts whole", []byte{0xff, 0xff, 0xff}, 3},
		{"truncated bytes field counts whole", []byte{0x0a, 0x05, 'a'}, 3},
		{"unknown field ignored", append(mustMarshal(&common.Envelope{Payload: []byte("ab")}), 0x18, 0x01), 2},
	}
	for _, c := range cases {
		if got := MessageSize(c.in); got != c.want {
			t.Errorf("%s: MessageSize = %d, want %d", c.name, got, c.want)
		}
	}
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

type step struct {
	msg     string
	size    int
	want    string // batches returned by Ordered
	pending bool
}

func TestOrdered(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"count cut", cfg(3, 1000), []step{
			{"a", 10, "", true}, {"b", 10, "", true}, {"c", 10, "[a b c]", false}, {"d", 10, "", true},
		}},
		{"count one cuts every message", cfg(1, 1000), []step{
			{"a", 10, "[a]", false}, {"b", 10, "[b]", false},
		}},
		{"exactly preferred fills batch without cut", cfg(10, 30), []step{
			{"a", 10, "", true}, {"b", 10, "", true}, {"c", 10, "", true}, {"d", 2, "[a b c]", true},
		}},
		{"one byte over preferred cuts pending first", cfg(10, 30), []step{
			{"a", 15, "", true}, {"b", 16, "[a]", true}, {"c", 14, "", true}, {"d", 2, "[b c]", true},
		}},
		{"message of exactly preferred is not oversize", cfg(10, 30), []step{
			{"a", 30, "", true}, {"b", 2, "[a]", true},
		}},
		{"oversize alone, nothing pending", cfg(10, 30), []step{
			{"big", 31, "[big]", false}, {"a", 5, "", true},
		}},
		{"oversize cuts pending then itself", cfg(10, 30), []step{
			{"a", 5, "", true}, {"b", 5, "", true}, {"big", 100, "[a b][big]", false},
		}},
		{"overflow cut and count cut in one call", cfg(2, 30), []step{
			{"a", 20, "", true}, {"b", 20, "[a]", true}, {"c", 5, "[b c]", false},
		}},
		{"overflow then count of one", cfg(1, 30), []step{
			{"a", 20, "[a]", false}, {"b", 20, "[b]", false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bc, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range c.steps {
				batches, pending := bc.Ordered(env(s.msg, s.size), t0)
				if got := names(batches); got != s.want || pending != s.pending {
					t.Fatalf("step %d (%s): got %q pending=%v, want %q pending=%v", i, s.msg, got, pending, s.want, s.pending)
				}
				if n, _ := bc.Pending(); (n > 0) != pending {
					t.Fatalf("step %d: Pending()=%d disagrees with pending=%v", i, n, pending)
				}
			}
		})
	}
}

func TestIsolatedAndCut(t *testing.T) {
	bc, err := New(cfg(10, 100))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(bc.Isolated(env("cfg1", 10))); got != "[cfg1]" {
		t.Fatalf("Isolated with nothing pending = %q", got)
	}
	bc.Ordered(env("a", 5), t0)
	bc.Ordered(env("b", 5), t0)
	if got := names(bc.Isolated(env("cfg2", 10))); got != "[a b][cfg2]" {
		t.Fatalf("Isolated with pending = %q", got)
	}
	if b := bc.Cut(); b != nil {
		t.Fatalf("Cut after Isolated returned %d messages", len(b))
	}
	if _, ok := bc.Deadline(); ok {
		t.Fatal("Deadline reported with nothing pending")
	}
}

func TestTimeout(t *testing.T) {
	bc, err := New(cfg(10, 100)) // 2s timeout
	if err != nil {
		t.Fatal(err)
	}
	if b := bc.Timeout(t0.Add(time.Hour)); b != nil {
		t.Fatal("Timeout with nothing pending returned a batch")
	}
	bc.Ordered(env("a", 5), t0)
	bc.Ordered(env("b", 5), t0.Add(1500*time.Millisecond))
	d, ok := bc.Deadline()
	if !ok || !d.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("Deadline = %v,%v; want first message + 2s", d, ok)
	}
	if b := bc.Timeout(t0.Add(1999 * time.Millisecond)); b != nil {
		t.Fatal("Timeout before deadline returned a batch")
	}
	if got := names([][][]byte{bc.Timeout(t0.Add(2 * time.Second))}); got != "[a b]" {
		t.Fatalf("Timeout at deadline = %q", got)
	}
	// The next batch's clock starts at its own first message.
	bc.Ordered(env("c", 5), t0.Add(10*time.Second))
	if d, _ := bc.Deadline(); !d.Equal(t0.Add(12 * time.Second)) {
		t.Fatalf("Deadline of new batch = %v", d)
	}
	// A cut for overflow restarts the clock from the message left pending.
	bc2, _ := New(cfg(10, 10))
	bc2.Ordered(env("x", 8), t0)
	bc2.Ordered(env("y", 8), t0.Add(time.Second))
	if d, _ := bc2.Deadline(); !d.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("Deadline after overflow cut = %v", d)
	}
}

func TestConfigValidation(t *testing.T) {
	good := cfg(10, 100)
	cases := []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"zero count", func(c *Config) { c.MaxMessageCount = 0 }, "MaxMessageCount"},
		{"zero absolute", func(c *Config) { c.AbsoluteMaxBytes = 0 }, "AbsoluteMaxBytes"},
		{"zero preferred", func(c *Config) { c.PreferredMaxBytes = 0 }, "PreferredMaxBytes"},
		{"preferred over absolute", func(c *Config) { c.PreferredMaxBytes = 2 << 20 }, "exceeds AbsoluteMaxBytes"},
		{"zero timeout", func(c *Config) { c.BatchTimeout = 0 }, "BatchTimeout"},
		{"negative timeout", func(c *Config) { c.BatchTimeout = -time.Second }, "BatchTimeout"},
	}
	if _, err := New(good); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	for _, c := range cases {
		bad := good
		c.mut(&bad)
		_, err := New(bad)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", c.name, err, c.want)
		}
		bc, _ := New(good)
		if _, err := bc.Reconfigure(bad); err == nil {
			t.Errorf("%s: Reconfigure accepted bad config", c.name)
		}
		if bc.Config() != good {
			t.Errorf("%s: failed Reconfigure changed config", c.name)
		}
	}
}

func TestReconfigure(t *testing.T) {
	bc, _ := New(cfg(10, 100))
	bc.Ordered(env("a", 10), t0)
	bc.Ordered(env("b", 10), t0)
	if b, err := bc.Reconfigure(cfg(5, 100)); err != nil || b != nil {
		t.Fatalf("Reconfigure within limits = %v, %v; want no cut", b, err)
	}
	if b, err := bc.Reconfigure(cfg(2, 100)); err != nil || names([][][]byte{b}) != "[a b]" {
		t.Fatalf("Reconfigure to count 2 = %q, %v; want cut [a b]", names([][][]byte{b}), err)
	}
	if _, err := bc.Reconfigure(cfg(10, 100)); err != nil {
		t.Fatal(err)
	}
	bc.Ordered(env("c", 10), t0)
	bc.Ordered(env("d", 10), t0)
	if b, err := bc.Reconfigure(cfg(10, 15)); err != nil || names([][][]byte{b}) != "[c d]" {
		t.Fatalf("Reconfigure to 15 bytes = %q, %v; want cut [c d]", names([][][]byte{b}), err)
	}
	c := cfg(10, 100)
	c.BatchTimeout = 5 * time.Second
	bc.Ordered(env("e", 10), t0)
	if _, err := bc.Reconfigure(c); err != nil {
		t.Fatal(err)
	}
	if d, _ := bc.Deadline(); !d.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("Deadline after timeout change = %v", d)
	}
}

func TestCheckSize(t *testing.T) {
	c := cfg(10, 10)
	c.AbsoluteMaxBytes = 20
	bc, _ := New(c)
	if err := bc.CheckSize(make([]byte, 20)); err != nil {
		t.Errorf("20 bytes at limit 20: %v", err)
	}
	if err := bc.CheckSize(make([]byte, 21)); err == nil || !strings.Contains(err.Error(), "AbsoluteMaxBytes") {
		t.Errorf("21 bytes at limit 20: err = %v", err)
	}
}

func TestConfigFromBatchSize(t *testing.T) {
	got := ConfigFromBatchSize(&orderer.BatchSize{MaxMessageCount: 7, AbsoluteMaxBytes: 99, PreferredMaxBytes: 50}, time.Second)
	want := Config{7, 99, 50, time.Second}
	if got != want {
		t.Fatalf("got %+v want %+v", got, want)
	}
	if fmt.Sprint(ConfigFromBatchSize(nil, 0)) != fmt.Sprint(Config{}) {
		t.Fatal("nil BatchSize should give the zero Config")
	}
}
