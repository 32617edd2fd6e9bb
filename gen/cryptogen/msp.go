package cryptogen

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"weft/fabcrypto"
)

// File and directory names cryptogen uses inside MSP and TLS folders.
const (
	keyFileName   = "priv_sk"
	nodeOUsConfig = "config.yaml"
)

func certFileName(cn string) string { return cn + "-cert.pem" }

// identity is what writeLocalMSP needs to know about one node or user.
type identity struct {
	name string
	sans []string
	role Role
	// client selects tls/client.{crt,key} instead of server.*.
	client bool
	// selfAdmin puts the identity's own cert in admincerts (users without
	// NodeOUs); nodes get the org admin's cert in a later pass instead.
	selfAdmin bool
}

// writeLocalMSP writes a node's or user's msp/ and tls/ folders.
func writeLocalMSP(dir string, id identity, signCA, tlsCA *fabcrypto.CA, nodeOUs bool) error {
	mspDir, tlsDir := filepath.Join(dir, "msp"), filepath.Join(dir, "tls")
	if err := mkdirs(mspDir, "admincerts", "cacerts", "tlscacerts", "keystore", "signcerts"); err != nil {
		return err
	}
	if err := os.MkdirAll(tlsDir, 0o755); err != nil {
		return fmt.Errorf("tls dir: %w", err)
	}

	key, err := fabcrypto.GenerateKey()
	if err != nil {
		return err
	}
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(mspDir, "keystore", keyFileName), key); err != nil {
		return err
	}
	var ous []string
	if nodeOUs {
		ous = []string{string(id.role)}
	}
	cert, err := signCA.Issue(fabcrypto.CertSpec{
		CommonName:          id.name,
		OrganizationalUnits: ous,
		KeyUsage:            x509.KeyUsageDigitalSignature,
		PublicKey:           &key.PublicKey,
	})
	if err != nil {
		return fmt.Errorf("signing certificate: %w", err)
	}
	writes := []struct {
		path string
		cert *x509.Certificate
	}{
		{filepath.Join(mspDir, "signcerts", certFileName(id.name)), cert},
		{filepath.Join(mspDir, "cacerts", certFileName(signCA.Cert.Subject.CommonName)), signCA.Cert},
		{filepath.Join(mspDir, "tlscacerts", certFileName(tlsCA.Cert.Subject.CommonName)), tlsCA.Cert},
	}
	if id.selfAdmin && !nodeOUs {
		writes = append(writes, struct {
			path string
			cert *x509.Certificate
		}{filepath.Join(mspDir, "admincerts", certFileName(id.name)), cert})
	}
	for _, w := range writes {
		if err := fabcrypto.WriteCertFile(w.path, w.cert); err != nil {
			return err
		}
	}
	if nodeOUs {
		if err := writeNodeOUsConfig(mspDir, signCA); err != nil {
			return err
		}
	}

	tlsKey, err := fabcrypto.GenerateKey()
	if err != nil {
		return err
	}
	tlsCert, err := tlsCA.Issue(fabcrypto.CertSpec{
		CommonName:  id.name,
		SANs:        id.sans,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey:   &tlsKey.PublicKey,
	})
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	prefix := "server"
	if id.client {
		prefix = "client"
	}
	if err := fabcrypto.WriteCertFile(filepath.Join(tlsDir, "ca.crt"), tlsCA.Cert); err != nil {
		return err
	}
	if err := fabcrypto.WriteCertFile(filepath.Join(tlsDir, prefix+".crt"), tlsCert); err != nil {
		return err
	}
	return fabcrypto.WritePrivateKeyFile(filepath.Join(tlsDir, prefix+".key"), tlsKey)
}

// writeVerifyingMSP writes the organization-level msp/ folder that
// configtxgen reads: CA certificates and NodeOUs only, no keys.
func writeVerifyingMSP(mspDir string, signCA, tlsCA *fabcrypto.CA, nodeOUs bool) error {
	if err := mkdirs(mspDir, "admincerts", "cacerts", "tlscacerts"); err != nil {
		return err
	}
	if err := fabcrypto.WriteCertFile(filepath.Join(mspDir, "cacerts", certFileName(signCA.Cert.Subject.CommonName)), signCA.Cert); err != nil {
		return err
	}
	if err := fabcrypto.WriteCertFile(filepath.Join(mspDir, "tlscacerts", certFileName(tlsCA.Cert.Subject.CommonName)), tlsCA.Cert); err != nil {
		return err
	}
	if nodeOUs {
		return writeNodeOUsConfig(mspDir, signCA)
	}
	return nil
}

type ouIdentifier struct {
	Certificate                  string `yaml:"Certificate"`
	OrganizationalUnitIdentifier string `yaml:"OrganizationalUnitIdentifier"`
}

type nodeOUsFile struct {
	NodeOUs struct {
		Enable              bool         `yaml:"Enable"`
		ClientOUIdentifier  ouIdentifier `yaml:"ClientOUIdentifier"`
		PeerOUIdentifier    ouIdentifier `yaml:"PeerOUIdentifier"`
		AdminOUIdentifier   ouIdentifier `yaml:"AdminOUIdentifier"`
		OrdererOUIdentifier ouIdentifier `yaml:"OrdererOUIdentifier"`
	} `yaml:"NodeOUs"`
}

// writeNodeOUsConfig writes msp/config.yaml binding the four role OUs to
// the signing CA certificate in cacerts/.
func writeNodeOUsConfig(mspDir string, signCA *fabcrypto.CA) error {
	ca := filepath.ToSlash(filepath.Join("cacerts", certFileName(signCA.Cert.Subject.CommonName)))
	var f nodeOUsFile
	f.NodeOUs.Enable = true
	f.NodeOUs.ClientOUIdentifier = ouIdentifier{ca, string(RoleClient)}
	f.NodeOUs.PeerOUIdentifier = ouIdentifier{ca, string(RolePeer)}
	f.NodeOUs.AdminOUIdentifier = ouIdentifier{ca, string(RoleAdmin)}
	f.NodeOUs.OrdererOUIdentifier = ouIdentifier{ca, string(RoleOrderer)}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return fmt.Errorf("NodeOUs config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("NodeOUs config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(mspDir, nodeOUsConfig), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("NodeOUs config: %w", err)
	}
	return nil
}

func mkdirs(base string, subs ...string) error {
	for _, s := range subs {
		if err := os.MkdirAll(filepath.Join(base, s), 0o755); err != nil {
			return fmt.Errorf("create msp folder: %w", err)
		}
	}
	return nil
}
