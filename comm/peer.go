package comm

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ClientCertificate returns the TLS client certificate of the gRPC call in
// ctx. The client proved possession of its key in the handshake; the chain
// was verified when the server requires client certificates (see
// ServerTLSConfig). ok is false for plaintext calls and clients that sent
// no certificate.
func ClientCertificate(ctx context.Context) (*x509.Certificate, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil, false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, false
	}
	if len(info.State.VerifiedChains) > 0 && len(info.State.VerifiedChains[0]) > 0 {
		return info.State.VerifiedChains[0][0], true
	}
	if len(info.State.PeerCertificates) > 0 {
		return info.State.PeerCertificates[0], true
	}
	return nil, false
}

// ClientCertHash returns the SHA-256 of the DER of the call's TLS client
// certificate, the value Fabric binds into signed headers (tls_cert_hash),
// or nil when there is none.
func ClientCertHash(ctx context.Context) []byte {
	cert, ok := ClientCertificate(ctx)
	if !ok {
		return nil
	}
	sum := sha256.Sum256(cert.Raw)
	return sum[:]
}

// CertHash is the SHA-256 of a PEM certificate's DER: what a client puts in
// ChannelHeader.tls_cert_hash to bind a request to its TLS session (the
// value ClientCertHash computes on the server side); nil if certPEM holds
// no PEM block.
func CertHash(certPEM []byte) []byte {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil
	}
	sum := sha256.Sum256(b.Bytes)
	return sum[:]
}
