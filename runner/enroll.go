package runner

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	caclient "weft/ca/client"
	"weft/fabcrypto"
	"weft/gen/cryptogen"
	"weft/gen/network"
	"weft/spec"
)

// caIdentity is a peer or user of a CA org, enrolled into the folder
// cryptogen would have written for it.
type caIdentity struct {
	// name is the enrollment ID and the certificate's CN, cryptogen's
	// common name ("peer0.org1.example.com", "Admin@org1.example.com").
	name string
	typ  string
	dir  string
	// sans are the TLS certificate's host names (peers only).
	sans []string
	// client: tls/client.{crt,key}; else tls/server.{crt,key}.
	client bool
}

// caIdentities lists org k's peers and users as cryptogen resolves them,
// so that names and SANs are exactly those of offline generation.
func caIdentities(n *spec.Network, l network.Layout, k int) ([]caIdentity, error) {
	o := &n.Orgs[k]
	plan, err := network.CryptoConfig(n).Resolve()
	if err != nil {
		return nil, err
	}
	var org *cryptogen.Org
	for i := range plan.Orgs {
		if plan.Orgs[i].Kind == cryptogen.KindPeer && plan.Orgs[i].Domain == o.Domain {
			org = &plan.Orgs[i]
		}
	}
	if org == nil {
		return nil, fmt.Errorf("org %q: not in the crypto config", o.Name)
	}
	var out []caIdentity
	for _, nd := range org.Nodes {
		out = append(out, caIdentity{name: nd.CommonName, typ: "peer", dir: l.PeerDir(o, nd.CommonName), sans: nd.SANs})
	}
	for _, user := range org.Users {
		typ := "client"
		if user == org.AdminName() {
			typ = "admin"
		}
		out = append(out, caIdentity{name: user, typ: typ, dir: filepath.Join(l.PeerOrgDir(o), "users", user), client: true})
	}
	return out, nil
}

// enrollFromCAs gives every peer and user of a CA org that has no folder
// yet an identity registered and enrolled at the org's CA (signing
// certificate from ca-<org>, TLS certificate from tlsca-<org>). Existing
// folders are kept, whoever made them.
func (u *up) enrollFromCAs(ctx context.Context) error {
	for _, k := range caOrgs(u.n) {
		o := &u.n.Orgs[k]
		ids, err := caIdentities(u.n, u.l, k)
		if err != nil {
			return err
		}
		var todo []caIdentity
		for _, id := range ids {
			if _, err := os.Stat(id.dir); errors.Is(err, fs.ErrNotExist) {
				todo = append(todo, id)
			} else if err != nil {
				return fmt.Errorf("org %q: %s: %w", o.Name, id.name, err)
			}
		}
		if len(todo) == 0 {
			continue
		}
		e, err := newOrgEnroller(ctx, u.l, u.ep, o, k)
		if err != nil {
			return err
		}
		for _, id := range todo {
			if err := e.enroll(ctx, id); err != nil {
				return fmt.Errorf("org %q: enroll %s from its CA: %w", o.Name, id.name, err)
			}
			u.step("enrolled %s (%s) from %s", id.name, id.typ, network.CAHost(o))
		}
	}
	return nil
}

// orgEnroller registers and enrolls identities at one org's two CAs as
// the bootstrap admin.
type orgEnroller struct {
	l                 network.Layout
	o                 *spec.Org
	sign, tls         *caclient.Client
	signAdmin, tlsAdm *caclient.Signer
}

func newOrgEnroller(ctx context.Context, l network.Layout, ep network.Endpoints, o *spec.Org, k int) (*orgEnroller, error) {
	_, _, tlsCA, _ := orgCAFiles(l, o)
	conf, err := caclient.LoadTLSConfig(tlsCA)
	if err != nil {
		return nil, fmt.Errorf("org %q: CA TLS roots: %w", o.Name, err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	url := fmt.Sprintf("https://127.0.0.1:%d", ep.CA(k))
	e := &orgEnroller{l: l, o: o,
		sign: &caclient.Client{URL: url, CAName: network.CAName(o), HTTP: hc},
		tls:  &caclient.Client{URL: url, CAName: network.TLSCAName(o), HTTP: hc}}
	secret, err := readCASecret(l, o)
	if err != nil {
		return nil, err
	}
	a, err := e.sign.Enroll(ctx, caAdmin, secret, caclient.EnrollRequest{})
	if err != nil {
		return nil, fmt.Errorf("org %q: enroll the CA's bootstrap admin: %w", o.Name, err)
	}
	e.signAdmin = a.Signer()
	if a, err = e.tls.Enroll(ctx, caAdmin, secret, caclient.EnrollRequest{}); err != nil {
		return nil, fmt.Errorf("org %q: enroll the TLS CA's bootstrap admin: %w", o.Name, err)
	}
	e.tlsAdm = a.Signer()
	return e, nil
}

// register makes sure id exists at c with a fresh secret and returns it.
// An identity left registered by an interrupted run gets a new secret
// rather than failing the run.
func register(ctx context.Context, c *caclient.Client, admin *caclient.Signer, id caIdentity) (string, error) {
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(buf)
	_, err := c.Register(ctx, admin, caclient.RegistrationRequest{Name: id.name, Type: id.typ, Secret: secret, MaxEnrollments: -1})
	var se *caclient.ServerError
	if errors.As(err, &se) && se.HTTPStatus == http.StatusConflict {
		_, err = c.ModifyIdentity(ctx, admin, id.name, caclient.ModifyIdentityRequest{Secret: secret})
	}
	if err != nil {
		return "", fmt.Errorf("register at %s: %w", c.CAName, err)
	}
	return secret, nil
}

// enroll writes id's msp/ and tls/ folders in cryptogen's layout: built in
// a scratch folder and renamed into place, so a failed run leaves nothing
// that a later run would take for a finished identity.
func (e *orgEnroller) enroll(ctx context.Context, id caIdentity) error {
	secret, err := register(ctx, e.sign, e.signAdmin, id)
	if err != nil {
		return err
	}
	ecert, err := e.sign.Enroll(ctx, id.name, secret, caclient.EnrollRequest{})
	if err != nil {
		return err
	}
	if secret, err = register(ctx, e.tls, e.tlsAdm, id); err != nil {
		return err
	}
	tcert, err := e.tls.Enroll(ctx, id.name, secret, caclient.EnrollRequest{Profile: "tls", Hosts: id.sans})
	if err != nil {
		return err
	}
	tmp := id.dir + ".enrolling"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := e.writeIdentity(tmp, id, ecert, tcert); err != nil {
		return err
	}
	return os.Rename(tmp, id.dir)
}

func (e *orgEnroller) writeIdentity(dir string, id caIdentity, ecert, tcert *caclient.Enrollment) error {
	orgMSP := filepath.Join(e.l.PeerOrgDir(e.o), "msp")
	mspDir, tlsDir := filepath.Join(dir, "msp"), filepath.Join(dir, "tls")
	for _, sub := range []string{"admincerts", "cacerts", "tlscacerts", "keystore", "signcerts"} {
		if err := os.MkdirAll(filepath.Join(mspDir, sub), 0o755); err != nil {
			return err
		}
	}
	// The org's verifying MSP has the CA certificates and NodeOUs
	// config.yaml a local MSP needs, under the same names.
	for _, f := range []string{"cacerts/ca." + e.o.Domain + "-cert.pem", "tlscacerts/tlsca." + e.o.Domain + "-cert.pem", "config.yaml"} {
		b, err := os.ReadFile(filepath.Join(orgMSP, f))
		if err != nil {
			return fmt.Errorf("org msp: %w", err)
		}
		if err := os.WriteFile(filepath.Join(mspDir, f), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(mspDir, "signcerts", id.name+"-cert.pem"), ecert.Cert, 0o644); err != nil {
		return err
	}
	if err := fabcrypto.WritePrivateKeyFile(filepath.Join(mspDir, "keystore", "priv_sk"), ecert.Key); err != nil {
		return err
	}
	if err := os.MkdirAll(tlsDir, 0o755); err != nil {
		return err
	}
	_, _, tlsCA, _ := orgCAFiles(e.l, e.o)
	ca, err := os.ReadFile(tlsCA)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tlsDir, "ca.crt"), ca, 0o644); err != nil {
		return err
	}
	prefix := "server"
	if id.client {
		prefix = "client"
	}
	if err := os.WriteFile(filepath.Join(tlsDir, prefix+".crt"), tcert.Cert, 0o644); err != nil {
		return err
	}
	return fabcrypto.WritePrivateKeyFile(filepath.Join(tlsDir, prefix+".key"), tcert.Key)
}
