package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkEnroll measures enrollments per second through the HTTP
// handler (secret check, CSR check, signing, recording).
func BenchmarkEnroll(b *testing.B) {
	root := newRoot(b, "bench-ca")
	srv, err := New(context.Background(), Options{CAs: []CAConfig{baseConfig(b, "bench", root, openStore(b))}})
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"certificate_request": csrFor(b, newKey(b), "admin")})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/api/v1/enroll", bytes.NewReader(body))
		req.SetBasicAuth("admin", "adminpw")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("enroll: %d %s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
}
