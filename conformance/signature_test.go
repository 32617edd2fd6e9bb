package conformance

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"testing"

	"weft/fabcrypto"
)

type signCase struct {
	Message     string `json:"message"`
	GoSignature string `json:"goSignature"`
}

type signResult struct {
	GoVerifiedByNode bool   `json:"goVerifiedByNode"`
	GoLowS           bool   `json:"goLowS"`
	NodeSignature    string `json:"nodeSignature"`
	NodeHighS        string `json:"nodeHighS"`
}

// TestSignaturesAgreeWithNode checks weft's ECDSA against Node's crypto and
// fabric-gateway's signer: weft's signatures verify in Node and are low-S;
// fabric-gateway's verify in weft; their high-S twins are rejected by weft
// as Fabric rejects them. Many messages make it near certain that raw
// signing produced high-S values that weft had to normalise.
func TestSignaturesAgreeWithNode(t *testing.T) {
	key, err := fabcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := fabcrypto.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	const n = 32
	var cases []signCase
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = []byte(fmt.Sprintf("weft conformance message %d", i))
		sig, err := fabcrypto.Sign(key, msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, signCase{
			Message:     base64.StdEncoding.EncodeToString(msgs[i]),
			GoSignature: base64.StdEncoding.EncodeToString(sig),
		})
	}
	var results []signResult
	runNode(t, "sign.js", map[string]any{
		"privateKeyPem": string(privPEM),
		"publicKeyPem":  string(pubPEM),
		"cases":         cases,
	}, &results)
	if len(results) != n {
		t.Fatalf("node returned %d results, want %d", len(results), n)
	}
	for i, r := range results {
		if !r.GoVerifiedByNode {
			t.Errorf("case %d: Node's crypto rejects weft's signature", i)
		}
		if !r.GoLowS {
			t.Errorf("case %d: weft produced a high-S signature", i)
		}
		nodeSig, _ := base64.StdEncoding.DecodeString(r.NodeSignature)
		if err := fabcrypto.Verify(&key.PublicKey, msgs[i], nodeSig); err != nil {
			t.Errorf("case %d: weft rejects fabric-gateway's signature: %v", i, err)
		}
		highS, _ := base64.StdEncoding.DecodeString(r.NodeHighS)
		if err := fabcrypto.Verify(&key.PublicKey, msgs[i], highS); err == nil {
			t.Errorf("case %d: weft accepted a high-S signature", i)
		}
		if err := fabcrypto.Verify(&key.PublicKey, append(msgs[i], 'x'), nodeSig); err == nil {
			t.Errorf("case %d: weft accepted a signature over a different message", i)
		}
	}
}
