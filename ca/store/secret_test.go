package store

import (
	"strings"
	"testing"
)

func TestHashSecret(t *testing.T) {
	h, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" || parts[1] != "60000" {
		t.Fatalf("hash %q: want pbkdf2-sha256$60000$salt$key", h)
	}
	if strings.Contains(h, "s3cret") {
		t.Fatal("hash contains the secret")
	}
	if !CheckSecret(h, "s3cret") {
		t.Fatal("right secret rejected")
	}
	for _, wrong := range []string{"", "s3cre", "s3cret ", "S3cret"} {
		if CheckSecret(h, wrong) {
			t.Errorf("wrong secret %q accepted", wrong)
		}
	}
	h2, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Fatal("two hashes of one secret are equal: salt not random")
	}
	if _, err := HashSecret(""); err == nil || !strings.Contains(err.Error(), "secret: empty") {
		t.Fatalf("empty secret: got %v", err)
	}
}

func TestCheckSecretMalformed(t *testing.T) {
	// A fast, valid hash to mutate.
	good, err := hashSecret("pw", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckSecret(good, "pw") {
		t.Fatal("valid low-iteration hash rejected")
	}
	p := strings.Split(good, "$")
	join := func(s ...string) string { return strings.Join(s, "$") }
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"plain secret", "pw"},
		{"wrong scheme", join("pbkdf2-sha1", p[1], p[2], p[3])},
		{"too few parts", join(p[0], p[1], p[2])},
		{"too many parts", good + "$x"},
		{"zero iterations", join(p[0], "0", p[2], p[3])},
		{"negative iterations", join(p[0], "-10", p[2], p[3])},
		{"padded iterations", join(p[0], "010", p[2], p[3])},
		{"huge iterations", join(p[0], "999999999999", p[2], p[3])},
		{"bad salt base64", join(p[0], p[1], "!!!", p[3])},
		{"short salt", join(p[0], p[1], "AAAA", p[3])},
		{"bad key base64", join(p[0], p[1], p[2], "***")},
		{"short key", join(p[0], p[1], p[2], "AAAA")},
		{"other iterations", join(p[0], "11", p[2], p[3])},
		{"truncated key", join(p[0], p[1], p[2], p[3][:len(p[3])-4])},
	} {
		if CheckSecret(tc.hash, "pw") {
			t.Errorf("%s: %q accepted", tc.name, tc.hash)
		}
	}
}

func BenchmarkHashSecret(b *testing.B) {
	for b.Loop() {
		if _, err := HashSecret("benchmark-secret"); err != nil {
			b.Fatal(err)
		}
	}
}
