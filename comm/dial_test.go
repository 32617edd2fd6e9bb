package comm

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/peer"
)

func TestDialErrors(t *testing.T) {
	ca := newCA(t, "ca.org1")
	server := ca.issue(t, "server")
	other := ca.issue(t, "other")
	sconf, err := ServerTLSConfig(server.cert, server.key, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, NewGRPCServer(sconf, ServerOptions{}))

	// A port with nothing listening.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()

	pinnedOther, err := PinnedClientTLSConfig(nil, nil, other.cert)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, addr string
		want       string
	}{
		{"bad address", "no-port", "address"},
		{"nothing listening", closed, "deadline exceeded"},
		{"handshake error is reported", addr, "not the pinned certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			conn, err := Dial(ctx, tt.addr, pinnedOther)
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("Dial took %s despite a 500ms deadline", time.Since(start))
			}
		})
	}
}

func TestClientCertificateWithoutPeer(t *testing.T) {
	if _, ok := ClientCertificate(context.Background()); ok {
		t.Fatal("certificate found in a context without peer")
	}
	ctx := peer.NewContext(context.Background(), &peer.Peer{})
	if _, ok := ClientCertificate(ctx); ok || ClientCertHash(ctx) != nil {
		t.Fatal("certificate found for a peer without TLS")
	}
}
