package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/comm"
	"weft/gen/network"
	"weft/msp"
	"weft/orderer/participation"
	"weft/runner/population"
	"weft/spec"
)

// portFree fails with a clear message when a port p must listen on is
// taken by something else.
func portFree(p proc) error {
	for _, addr := range p.listens {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s cannot start: %s is already in use (another network or program?); stop it, or choose other ports with `weft down` and `weft up --base-port N`", p.name, addr)
		}
		l.Close()
	}
	return nil
}

// nodeProcs lists the node processes of a spec: CAs, orderers, peers.
func nodeProcs(n *spec.Network, dir, binary string, ep network.Endpoints) []proc {
	l := network.Layout{Dir: dir}
	out := caProcs(n, dir, binary, ep)
	for i, h := range n.OrdererHosts() {
		out = append(out, proc{name: h, kind: kindOrderer, path: binary, args: []string{"node", "orderer", "--config", l.OrdererConfigPath(h)},
			health:  fmt.Sprintf("http://127.0.0.1:%d/healthz", ep.OrdererOps(i)),
			listens: []string{fmt.Sprintf("127.0.0.1:%d", ep.Orderer(i)), fmt.Sprintf("127.0.0.1:%d", ep.OrdererAdmin(i)), fmt.Sprintf("127.0.0.1:%d", ep.OrdererOps(i))}})
	}
	for k := range n.Orgs {
		for p, h := range n.Orgs[k].PeerHosts() {
			out = append(out, proc{name: h, kind: kindPeer, path: binary, args: []string{"node", "peer", "--config", l.PeerConfigPath(h)},
				health:  fmt.Sprintf("http://127.0.0.1:%d/healthz", ep.PeerOps(k, p)),
				listens: []string{fmt.Sprintf("127.0.0.1:%d", ep.Peer(k, p)), fmt.Sprintf("127.0.0.1:%d", ep.PeerOps(k, p))}})
		}
	}
	return out
}

// startNodes starts the CAs (cas) or the orderers and peers (!cas): the
// peers' identities are enrolled from the CAs in between.
func (u *up) startNodes(ctx context.Context, cas bool) error {
	var procs []proc
	for _, p := range nodeProcs(u.n, u.opts.Dir, u.opts.Binary, u.ep) {
		if (p.kind == kindCA) == cas {
			procs = append(procs, p)
		}
	}
	what := "nodes"
	if cas {
		what = "CAs"
		if len(procs) == 0 {
			return nil
		}
	}
	// Nodes whose config changed (e.g. a new org's TLS CA for the
	// orderers) restart one at a time, so the cluster keeps its quorum.
	for _, p := range procs {
		if _, ok := running(u.opts.Dir, p.name); !ok || !u.changed[p.name] {
			continue
		}
		u.step("restarting %s: its configuration changed", p.name)
		if err := stop(u.opts.Dir, p.name, 15*time.Second); err != nil {
			return err
		}
		if _, err := start(u.opts.Dir, p); err != nil {
			return err
		}
		if err := waitHealthy(ctx, u.opts.Dir, p); err != nil {
			return err
		}
	}
	var toStart []proc
	for _, p := range procs {
		if _, ok := running(u.opts.Dir, p.name); ok {
			continue
		}
		if err := portFree(p); err != nil {
			return err
		}
		toStart = append(toStart, p)
	}
	if len(toStart) == 0 {
		u.step("all %d %s are running", len(procs), what)
		return nil
	}
	u.step("starting %d %s (logs in %s)", len(toStart), what, filepath.Join(u.opts.Dir, "logs"))
	for _, p := range toStart {
		pid, err := u.start(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(u.out, "    %-28s pid %d\n", p.name, pid)
	}
	for _, p := range toStart {
		if err := waitHealthy(ctx, u.opts.Dir, p); err != nil {
			return err
		}
	}
	return nil
}

func (u *up) adminHTTP() (*http.Client, error) {
	org := u.l.OrdererOrgDir(u.n)
	tlsDir := filepath.Join(org, "users", "Admin@"+u.n.Orderer.Domain, "tls")
	pair, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return nil, fmt.Errorf("orderer admin TLS identity: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(org, "tlsca", "tlsca."+u.n.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
	}}}, nil
}

func (u *up) joinOrderers(ctx context.Context) error {
	hc, err := u.adminHTTP()
	if err != nil {
		return err
	}
	for _, ch := range u.n.Channels {
		block, err := u.genesis(ch.Name)
		if err != nil {
			return err
		}
		raw, _ := proto.Marshal(block)
		for i, h := range u.n.OrdererHosts() {
			base := fmt.Sprintf("https://127.0.0.1:%d", u.ep.OrdererAdmin(i))
			_, err := participation.Info(ctx, hc, base, ch.Name)
			var he *participation.HTTPError
			switch {
			case err == nil:
				continue
			case errors.As(err, &he) && he.StatusCode == http.StatusNotFound:
			default:
				return fmt.Errorf("orderer %s: channel %q: %w", h, ch.Name, err)
			}
			if _, err := participation.Join(ctx, hc, base, raw); err != nil {
				return fmt.Errorf("orderer %s: join %q: %w", h, ch.Name, err)
			}
			u.step("orderer %s joined channel %s", h, ch.Name)
		}
	}
	return nil
}

// peerConn dials peer p of org k with server-authenticated TLS.
func (u *up) peerConn(ctx context.Context, k, p int) (*grpc.ClientConn, error) {
	o := &u.n.Orgs[k]
	ca, err := os.ReadFile(filepath.Join(u.l.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem"))
	if err != nil {
		return nil, err
	}
	conf, err := comm.ClientTLSConfig(nil, nil, [][]byte{ca}, "localhost")
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return comm.Dial(dctx, fmt.Sprintf("127.0.0.1:%d", u.ep.Peer(k, p)), conf)
}

func (u *up) orgUser(k int, name string) (*msp.SigningIdentity, error) {
	o := &u.n.Orgs[k]
	id, _ := u.n.MSPID(o.Name)
	return msp.LoadSigningIdentity(u.l.UserMSP(o, name), id)
}

func (u *up) joinPeers(ctx context.Context) error {
	for k := range u.n.Orgs {
		o := &u.n.Orgs[k]
		admin, err := u.orgUser(k, "Admin")
		if err != nil {
			return err
		}
		for p, h := range o.PeerHosts() {
			conn, err := u.peerConn(ctx, k, p)
			if err != nil {
				return fmt.Errorf("peer %s: %w", h, err)
			}
			joined, err := population.PeerChannels(ctx, conn, admin)
			if err != nil {
				conn.Close()
				return fmt.Errorf("peer %s: %w", h, err)
			}
			for _, ch := range u.n.Channels {
				if !slices.Contains(ch.Orgs, o.Name) || slices.Contains(joined, ch.Name) {
					continue
				}
				block, err := u.genesis(ch.Name)
				if err != nil {
					conn.Close()
					return err
				}
				if err := client.JoinChannel(ctx, conn, admin, block); err != nil {
					conn.Close()
					return fmt.Errorf("peer %s: join %q: %w", h, ch.Name, err)
				}
				u.step("peer %s joined channel %s", h, ch.Name)
			}
			conn.Close()
		}
	}
	return nil
}
