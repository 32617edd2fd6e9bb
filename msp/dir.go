package msp

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"weft/fabcrypto"
	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"
)

// Sub-directories and files of a Fabric MSP folder.
const (
	DirCACerts              = "cacerts"
	DirIntermediateCerts    = "intermediatecerts"
	DirAdminCerts           = "admincerts"
	DirSignCerts            = "signcerts"
	DirKeystore             = "keystore"
	DirCRLs                 = "crls"
	DirTLSCACerts           = "tlscacerts"
	DirTLSIntermediateCerts = "tlsintermediatecerts"
	ConfigFileName          = "config.yaml"
)

// OUConfig is one OU entry of config.yaml; Certificate is a path relative
// to the MSP folder.
type OUConfig struct {
	Certificate                  string `yaml:"Certificate,omitempty"`
	OrganizationalUnitIdentifier string `yaml:"OrganizationalUnitIdentifier,omitempty"`
}

// NodeOUsConfig is the NodeOUs section of config.yaml.
type NodeOUsConfig struct {
	Enable              bool      `yaml:"Enable,omitempty"`
	ClientOUIdentifier  *OUConfig `yaml:"ClientOUIdentifier,omitempty"`
	PeerOUIdentifier    *OUConfig `yaml:"PeerOUIdentifier,omitempty"`
	AdminOUIdentifier   *OUConfig `yaml:"AdminOUIdentifier,omitempty"`
	OrdererOUIdentifier *OUConfig `yaml:"OrdererOUIdentifier,omitempty"`
}

// DirConfig is the content of an MSP folder's config.yaml.
type DirConfig struct {
	OrganizationalUnitIdentifiers []*OUConfig    `yaml:"OrganizationalUnitIdentifiers,omitempty"`
	NodeOUs                       *NodeOUsConfig `yaml:"NodeOUs,omitempty"`
}

// readPEMDir returns the content of every file in dir that holds PEM data,
// in file-name order. Files without PEM are skipped, as Fabric does. The
// bool is false when dir does not exist.
func readPEMDir(dir string) ([][]byte, bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read directory %s: %w", dir, err)
	}
	var out [][]byte
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		st, err := os.Stat(full)
		if err != nil || st.IsDir() {
			continue
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, true, fmt.Errorf("read %s: %w", full, err)
		}
		if b, _ := pem.Decode(data); b == nil {
			continue
		}
		out = append(out, data)
	}
	return out, true, nil
}

// ConfigFromDir reads a Fabric MSP folder into the channel form of its
// MSPConfig (no signing identity).
func ConfigFromDir(dir, mspID string) (*mspproto.MSPConfig, error) {
	if mspID == "" {
		return nil, fmt.Errorf("msp dir %s: MSP ID is empty", dir)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("msp dir %s: %s", dir, fmt.Sprintf(format, a...))
	}
	load := func(sub string) ([][]byte, error) {
		data, _, err := readPEMDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fail("%s: %v", sub, err)
		}
		return data, nil
	}
	conf := &mspproto.FabricMSPConfig{
		Name:         mspID,
		CryptoConfig: &mspproto.FabricCryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"},
	}
	var err error
	if conf.RootCerts, err = load(DirCACerts); err != nil {
		return nil, err
	}
	if len(conf.RootCerts) == 0 {
		return nil, fail("%s: no CA certificate found", DirCACerts)
	}
	if conf.Admins, err = load(DirAdminCerts); err != nil {
		return nil, err
	}
	if conf.IntermediateCerts, err = load(DirIntermediateCerts); err != nil {
		return nil, err
	}
	if conf.RevocationList, err = load(DirCRLs); err != nil {
		return nil, err
	}
	if conf.TlsRootCerts, err = load(DirTLSCACerts); err != nil {
		return nil, err
	}
	// Fabric ignores TLS intermediates when there is no TLS root.
	if len(conf.TlsRootCerts) > 0 {
		if conf.TlsIntermediateCerts, err = load(DirTLSIntermediateCerts); err != nil {
			return nil, err
		}
	}
	if err := applyDirConfig(dir, conf); err != nil {
		return nil, fail("%v", err)
	}
	raw, err := proto.Marshal(conf)
	if err != nil {
		return nil, fail("marshal FabricMSPConfig: %v", err)
	}
	return &mspproto.MSPConfig{Type: TypeFabric, Config: raw}, nil
}

func applyDirConfig(dir string, conf *mspproto.FabricMSPConfig) error {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", ConfigFileName, err)
	}
	var dc DirConfig
	if err := yaml.Unmarshal(raw, &dc); err != nil {
		return fmt.Errorf("%s: %w", ConfigFileName, err)
	}
	readCert := func(field, rel string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: certificate: %w", ConfigFileName, field, err)
		}
		return data, nil
	}
	for i, ou := range dc.OrganizationalUnitIdentifiers {
		if ou == nil {
			continue
		}
		data, err := readCert(fmt.Sprintf("OrganizationalUnitIdentifiers[%d]", i), ou.Certificate)
		if err != nil {
			return err
		}
		conf.OrganizationalUnitIdentifiers = append(conf.OrganizationalUnitIdentifiers,
			&mspproto.FabricOUIdentifier{Certificate: data, OrganizationalUnitIdentifier: ou.OrganizationalUnitIdentifier})
	}
	if dc.NodeOUs == nil || !dc.NodeOUs.Enable {
		return nil
	}
	nodeOU := func(field string, c *OUConfig) (*mspproto.FabricOUIdentifier, error) {
		if c == nil || c.OrganizationalUnitIdentifier == "" {
			return nil, nil
		}
		out := &mspproto.FabricOUIdentifier{OrganizationalUnitIdentifier: c.OrganizationalUnitIdentifier}
		if c.Certificate != "" {
			data, err := readCert("NodeOUs."+field, c.Certificate)
			if err != nil {
				return nil, err
			}
			out.Certificate = data
		}
		return out, nil
	}
	n := &mspproto.FabricNodeOUs{Enable: true}
	if n.ClientOuIdentifier, err = nodeOU("ClientOUIdentifier", dc.NodeOUs.ClientOUIdentifier); err != nil {
		return err
	}
	if n.PeerOuIdentifier, err = nodeOU("PeerOUIdentifier", dc.NodeOUs.PeerOUIdentifier); err != nil {
		return err
	}
	if n.AdminOuIdentifier, err = nodeOU("AdminOUIdentifier", dc.NodeOUs.AdminOUIdentifier); err != nil {
		return err
	}
	if n.OrdererOuIdentifier, err = nodeOU("OrdererOUIdentifier", dc.NodeOUs.OrdererOUIdentifier); err != nil {
		return err
	}
	conf.FabricNodeOus = n
	return nil
}

// LoadSigningIdentity reads the first certificate of dir/signcerts and the
// keystore key matching its public key. The identity is not validated
// against an MSP; deserialize Serialize() with one to do that.
func LoadSigningIdentity(dir, mspID string) (*SigningIdentity, error) {
	if mspID == "" {
		return nil, fmt.Errorf("msp dir %s: MSP ID is empty", dir)
	}
	certs, _, err := readPEMDir(filepath.Join(dir, DirSignCerts))
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %s: %w", dir, DirSignCerts, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("msp dir %s: %s: no certificate found", dir, DirSignCerts)
	}
	cert, err := parseCertPEM(certs[0])
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %s: %w", dir, DirSignCerts, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("msp dir %s: %s: certificate key is %T, only ECDSA signing is supported", dir, DirSignCerts, cert.PublicKey)
	}
	keys, _, err := readPEMDir(filepath.Join(dir, DirKeystore))
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %s: %w", dir, DirKeystore, err)
	}
	var key *ecdsa.PrivateKey
	for _, k := range keys {
		pk, err := fabcrypto.ParsePrivateKeyPEM(k)
		if err != nil {
			continue
		}
		if pk.PublicKey.Equal(pub) {
			key = pk
			break
		}
	}
	if key == nil {
		return nil, fmt.Errorf("msp dir %s: %s: no private key matches the certificate in %s", dir, DirKeystore, DirSignCerts)
	}
	signer, err := fabcrypto.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("msp dir %s: %w", dir, err)
	}
	certPEM := encodeCertPEM(cert)
	// Keep the file's own PEM when it is just this certificate, so the
	// creator bytes match what other tools build from the same file.
	if b, rest := pem.Decode(certs[0]); b != nil && len(bytes.TrimSpace(rest)) == 0 && bytes.Equal(b.Bytes, cert.Raw) {
		certPEM = certs[0]
	}
	ser, err := Serialize(mspID, certPEM)
	if err != nil {
		return nil, err
	}
	return &SigningIdentity{Identity: newIdentity(mspID, cert, ser, nil), Signer: signer}, nil
}
