package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/client"
	"weft/comm"
	"weft/gen/network"
	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
	"weft/msp"
	"weft/orderer/participation"
	"weft/runner/population"
	"weft/spec"
	"weft/wire/common"
)

// populator runs the steps that make running nodes a network: orderers and
// peers join the channels, chaincodes are installed, approved and
// committed. Every step asks first and acts only when needed, so a pass
// over a populated network changes nothing.
type populator struct {
	res  *v1alpha1.Network
	n    *spec.Network
	l    network.Layout // the restored crypto tree
	m    *render.Material
	eps  []v1alpha1.Endpoint
	dial time.Duration

	conns map[string]*grpc.ClientConn
	// members are the MSP IDs in each channel's config, as last read.
	members map[string][]string
}

// popResult is the outcome of one channel or chaincode.
type popResult struct {
	done   bool
	reason string
	msg    string
}

func newPopulator(res *v1alpha1.Network, dir string, m *render.Material) (*populator, error) {
	eps, err := render.Endpoints(res)
	if err != nil {
		return nil, err
	}
	return &populator{res: res, n: res.NetworkSpec(), l: network.Layout{Dir: dir}, m: m, eps: eps,
		dial: 10 * time.Second, conns: map[string]*grpc.ClientConn{}, members: map[string][]string{}}, nil
}

func (p *populator) close() {
	for _, c := range p.conns {
		c.Close()
	}
}

// hostPort splits an endpoint address; the host is also the TLS name, as
// every node certificate names its Service.
func hostPort(addr string) (string, int, error) {
	h, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	return h, port, err
}

func (p *populator) endpoints(kind v1alpha1.NodeKind, org string) []v1alpha1.Endpoint {
	var out []v1alpha1.Endpoint
	for _, e := range p.eps {
		if e.Kind == kind && (org == "" || e.Org == org) {
			out = append(out, e)
		}
	}
	return out
}

// channels joins every orderer and peer to every channel.
func (p *populator) channels(ctx context.Context) map[string]popResult {
	out := map[string]popResult{}
	admin, hcFor, err := p.ordererAdmin()
	for _, ch := range p.n.Channels {
		if err != nil {
			out[ch.Name] = popResult{reason: ReasonPopulateFailed, msg: err.Error()}
			continue
		}
		msg, jerr := p.joinChannel(ctx, ch, admin, hcFor)
		if jerr != nil {
			out[ch.Name] = popResult{reason: ReasonPopulateFailed, msg: jerr.Error()}
			continue
		}
		out[ch.Name] = popResult{done: true, reason: ReasonJoined, msg: msg}
	}
	return out
}

// ordererAdmin loads the orderer org's admin and returns a maker of
// participation API clients that expect a given orderer host.
func (p *populator) ordererAdmin() (*population.TLSUser, func(host string) (*http.Client, error), error) {
	admin, err := population.LoadTLSUser(filepath.Dir(p.l.OrdererAdminMSP(p.n)), p.n.Orderer.MSPID)
	if err != nil {
		return nil, nil, fmt.Errorf("orderer admin: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(p.l.OrdererOrgDir(p.n), "tlsca", "tlsca."+p.n.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, nil, fmt.Errorf("orderer TLS CA: %w", err)
	}
	return admin, func(host string) (*http.Client, error) { return population.AdminHTTPClient(admin, ca, host) }, nil
}

func (p *populator) joinChannel(ctx context.Context, ch spec.Channel, _ *population.TLSUser, hcFor func(string) (*http.Client, error)) (string, error) {
	raw := p.m.Blocks[ch.Name]
	if len(raw) == 0 {
		return "", fmt.Errorf("channel %q: no genesis block in the material", ch.Name)
	}
	block := &common.Block{}
	if err := proto.Unmarshal(raw, block); err != nil {
		return "", fmt.Errorf("channel %q: genesis block: %w", ch.Name, err)
	}
	orderers := p.endpoints(v1alpha1.KindOrderer, "")
	var height uint64 // of a channel the orderers already served
	for _, e := range orderers {
		host, _, err := hostPort(e.Internal)
		if err != nil {
			return "", fmt.Errorf("orderer %s: address %q: %w", e.Node, e.Internal, err)
		}
		hc, err := hcFor(host)
		if err != nil {
			return "", err
		}
		base := "https://" + net.JoinHostPort(host, strconv.Itoa(render.OrdererAdminPort))
		info, err := participation.Info(ctx, hc, base, ch.Name)
		var he *participation.HTTPError
		switch {
		case err == nil:
			height = max(height, info.Height)
			continue
		case errors.As(err, &he) && he.StatusCode == http.StatusNotFound:
		default:
			return "", fmt.Errorf("orderer %s: channel %q: %w", e.Node, ch.Name, err)
		}
		if _, err := participation.Join(ctx, hc, base, raw); err != nil {
			return "", fmt.Errorf("orderer %s: join %q: %w", e.Node, ch.Name, err)
		}
	}
	// The stored genesis block predates orgs added to the spec later: the
	// channel config gets them first, or their peers' blocks would be
	// refused and their endorsements not count.
	added := ""
	if height > 0 && len(orderers) > 0 {
		members, add, err := p.addOrgs(ctx, ch, height, hcFor)
		if err != nil {
			return "", err
		}
		p.members[ch.Name] = members
		if len(add) > 0 {
			added = "; added " + strings.Join(add, ", ") + " to the channel config"
		}
	} else {
		for _, name := range ch.Orgs {
			if o := p.n.Org(name); o != nil {
				p.members[ch.Name] = append(p.members[ch.Name], o.MSPID)
			}
		}
	}
	peers := 0
	for _, orgName := range ch.Orgs {
		o := p.n.Org(orgName)
		if o == nil {
			return "", fmt.Errorf("channel %q: org %q is not in the spec", ch.Name, orgName)
		}
		admin, err := p.orgAdmin(o)
		if err != nil {
			return "", err
		}
		for _, e := range p.endpoints(v1alpha1.KindPeer, o.Name) {
			conn, err := p.peerConn(ctx, o, e)
			if err != nil {
				return "", err
			}
			joined, err := population.PeerChannels(ctx, conn, admin)
			if err != nil {
				return "", fmt.Errorf("peer %s: channels: %w", e.Node, err)
			}
			if !slices.Contains(joined, ch.Name) {
				if err := client.JoinChannel(ctx, conn, admin, block); err != nil {
					return "", fmt.Errorf("peer %s: join %q: %w", e.Node, ch.Name, err)
				}
			}
			peers++
		}
	}
	return fmt.Sprintf("%d orderers and %d peers joined%s", len(orderers), peers, added), nil
}

func (p *populator) orgAdmin(o *spec.Org) (*msp.SigningIdentity, error) {
	s, err := msp.LoadSigningIdentity(p.l.UserMSP(o, "Admin"), o.MSPID)
	if err != nil {
		return nil, fmt.Errorf("org %s: admin: %w", o.Name, err)
	}
	return s, nil
}

// peerConn dials a peer over TLS, trusting its org's TLS CA; connections
// are reused within one pass.
func (p *populator) peerConn(ctx context.Context, o *spec.Org, e v1alpha1.Endpoint) (*grpc.ClientConn, error) {
	if c := p.conns[e.Internal]; c != nil {
		return c, nil
	}
	host, _, err := hostPort(e.Internal)
	if err != nil {
		return nil, fmt.Errorf("peer %s: address %q: %w", e.Node, e.Internal, err)
	}
	ca, err := os.ReadFile(filepath.Join(p.l.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("org %s: TLS CA: %w", o.Name, err)
	}
	conf, err := comm.ClientTLSConfig(nil, nil, [][]byte{ca}, host)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, p.dial)
	defer cancel()
	c, err := comm.Dial(dctx, e.Internal, conf)
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", e.Node, err)
	}
	p.conns[e.Internal] = c
	return c, nil
}

// packageAddrKey turns a chaincode package's Service address into the
// "<namespace>/<name>" of its Deployment.
func packageAddrKey(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	parts := strings.SplitN(host, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1] + "/" + parts[0]
}
