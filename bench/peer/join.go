package peer

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/proto"

	benchorderer "weft/bench/orderer"
	"weft/client"
	"weft/comm"
	"weft/orderer/participation"
	"weft/wire/common"
)

func (n *Network) joinOrderers(ctx context.Context, genesis []byte) error {
	admin, err := n.ordererAdminHTTP()
	if err != nil {
		return err
	}
	for i := range n.Spec.OrdererHosts() {
		url := fmt.Sprintf("https://%s:%d", n.Ep.Host, n.Ep.OrdererAdmin(i))
		if _, err := participation.Join(ctx, admin, url, genesis); err != nil {
			return fmt.Errorf("network: join orderer %d: %w", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		for i := range n.Spec.OrdererHosts() {
			v, err := benchorderer.Metric(ctx, http.DefaultClient, n.opsURL(n.Ep.OrdererOps(i)), "consensus_etcdraft_is_leader", n.Channel)
			if err == nil && v == 1 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network: no Raft leader for %s: %w", n.Channel, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (n *Network) joinPeers(ctx context.Context, genesis []byte) error {
	var block common.Block
	if err := proto.Unmarshal(genesis, &block); err != nil {
		return fmt.Errorf("network: genesis block: %w", err)
	}
	for _, k := range n.Orgs {
		admin, err := n.Identity(k, "Admin")
		if err != nil {
			return err
		}
		conn, err := n.DialPeer(ctx, k)
		if err != nil {
			return err
		}
		err = client.JoinChannel(ctx, conn, admin, &block)
		conn.Close()
		if err != nil {
			return fmt.Errorf("network: join peer of %s: %w", n.Spec.Orgs[k].Name, err)
		}
	}
	return n.WaitPeers(ctx, 1)
}

func (n *Network) ordererAdminHTTP() (*http.Client, error) {
	dir := n.Layout.OrdererOrgDir(n.Spec)
	tlsDir := filepath.Join(dir, "users", "Admin@"+n.Spec.Orderer.Domain, "tls")
	cert, err := os.ReadFile(filepath.Join(tlsDir, "client.crt"))
	if err != nil {
		return nil, fmt.Errorf("network: orderer admin TLS certificate: %w", err)
	}
	key, err := os.ReadFile(filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return nil, fmt.Errorf("network: orderer admin TLS key: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "tlsca", "tlsca."+n.Spec.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("network: orderer TLS CA: %w", err)
	}
	conf, err := comm.ClientTLSConfig(cert, key, [][]byte{ca}, "localhost")
	if err != nil {
		return nil, fmt.Errorf("network: orderer admin TLS: %w", err)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}, nil
}
