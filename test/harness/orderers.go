package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/gen/network"
	"weft/msp"
	"weft/orderer/participation"
	"weft/spec"
	"weft/wire/common"
)

// Orderers is a generated network whose orderers run as processes.
type Orderers struct {
	Dir      string
	Spec     *spec.Network
	Layout   network.Layout
	Ep       network.Endpoints
	Procs    []*Process
	Channel  string
	Genesis  *common.Block
	ordCount int
}

// NewOrderers generates crypto for `total` orderers and one peer org
// (Org1), a genesis block for channel "mychannel" whose consenters are the
// first `consenters` orderers, and an orderer.yaml for each. Nothing is
// started.
func NewOrderers(t testing.TB, total, consenters int) *Orderers {
	t.Helper()
	dir := t.TempDir()
	n := &spec.Network{
		Name:     "it",
		Orderer:  spec.Orderer{Org: "OrdererOrg", MSPID: "OrdererMSP", Domain: "example.com", Nodes: total, BatchTimeout: "200ms"},
		Orgs:     []spec.Org{{Name: "Org1", Domain: "org1.example.com", Peers: 1, Users: 1}},
		Channels: []spec.Channel{{Name: "mychannel", Orgs: []string{"Org1"}}},
	}
	n.Orderer.BatchSize.MaxMessageCount = 50
	n.Orderer.BatchSize.AbsoluteMaxBytes = 1 << 20
	n.Orderer.BatchSize.PreferredMaxBytes = 512 << 10
	n.SetDefaults()
	base := FreePortBase(t, networkOffsets(total, []int{1}))
	ep := network.Endpoints{Host: "127.0.0.1", OrdererBase: base, PeerBase: base + 51, OpsBase: base + 5}
	o := &Orderers{Dir: dir, Spec: n, Layout: network.Layout{Dir: dir}, Ep: ep, Channel: "mychannel", ordCount: total}
	// Crypto only: the genesis block is built below with fewer consenters.
	saved := n.Channels
	n.Channels = nil
	if _, err := network.Generate(n, dir, network.Options{Endpoints: ep}); err != nil {
		t.Fatal(err)
	}
	n.Channels = saved
	prof, err := network.ChannelProfile(n, "mychannel", o.Layout, ep)
	if err != nil {
		t.Fatal(err)
	}
	prof.Orderer.EtcdRaft.Consenters = prof.Orderer.EtcdRaft.Consenters[:consenters]
	prof.Orderer.EtcdRaft.Options.TickInterval = "100ms"
	prof.Orderer.Organizations[0].OrdererEndpoints = prof.Orderer.Organizations[0].OrdererEndpoints[:consenters]
	grp, err := channelconfig.NewChannelGroup(prof)
	if err != nil {
		t.Fatal(err)
	}
	if o.Genesis, err = channelconfig.GenesisBlock("mychannel", grp); err != nil {
		t.Fatal(err)
	}
	if _, err := network.WriteOrdererConfigs(n, o.Layout, ep); err != nil {
		t.Fatal(err)
	}
	for i, host := range n.OrdererHosts() {
		o.Procs = append(o.Procs, &Process{
			Name: host,
			Args: []string{"node", "orderer", "--config", o.Layout.OrdererConfigPath(host)},
			Env:  []string{"ORDERER_CONSENSUS_SNAPSHOTEVERY=50"},
			Log:  filepath.Join(logDir(t, dir), host+".log"),
		})
		_ = i
	}
	t.Cleanup(func() {
		for _, p := range o.Procs {
			p.Kill()
		}
		if t.Failed() {
			for _, p := range o.Procs {
				t.Logf("---- %s log tail ----\n%s", p.Name, p.Tail(40))
			}
		}
	})
	return o
}

// logDir is where node logs go: WEFT_TEST_LOGDIR when set (kept after the
// test, for debugging), else the test's temp dir.
func logDir(t testing.TB, dir string) string {
	if d := os.Getenv("WEFT_TEST_LOGDIR"); d != "" {
		d = filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(d, 0o755); err == nil {
			return d
		}
	}
	return dir
}

// Start launches orderer i and waits for its health endpoint.
func (o *Orderers) Start(t testing.TB, i int) {
	t.Helper()
	o.Procs[i].Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", o.Ep.OrdererOps(i))); err != nil {
		t.Fatalf("%s: %v\n%s", o.Procs[i].Name, err, o.Procs[i].Tail(30))
	}
}

// Address is orderer i's client endpoint.
func (o *Orderers) Address(i int) string { return fmt.Sprintf("127.0.0.1:%d", o.Ep.Orderer(i)) }

func (o *Orderers) ordererOrg() string { return o.Layout.OrdererOrgDir(o.Spec) }
func (o *Orderers) org1() *spec.Org    { return &o.Spec.Orgs[0] }

// TLSCA is the orderer org's TLS CA certificate.
func (o *Orderers) TLSCA(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join(o.ordererOrg(), "tlsca", "tlsca.example.com-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// AdminHTTP is an HTTP client with the orderer admin's TLS identity.
func (o *Orderers) AdminHTTP(t testing.TB) *http.Client {
	tlsDir := filepath.Join(o.ordererOrg(), "users", "Admin@example.com", "tls")
	return o.httpClient(t, filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
}

// NodeHTTP is an HTTP client with orderer 0's own TLS identity: trusted
// by the admin listener's CA but not an admin.
func (o *Orderers) NodeHTTP(t testing.TB) *http.Client {
	tlsDir := filepath.Join(o.Layout.OrdererDir(o.Spec, o.Spec.OrdererHosts()[0]), "tls")
	return o.httpClient(t, filepath.Join(tlsDir, "server.crt"), filepath.Join(tlsDir, "server.key"))
}

func (o *Orderers) httpClient(t testing.TB, certFile, keyFile string) *http.Client {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(o.TLSCA(t))
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
	}}}
}

// AdminURL is orderer i's participation API base URL.
func (o *Orderers) AdminURL(i int) string {
	return fmt.Sprintf("https://127.0.0.1:%d", o.Ep.OrdererAdmin(i))
}

// Join joins orderer i to the channel with block b.
func (o *Orderers) Join(t testing.TB, i int, b *common.Block) participation.ChannelInfo {
	t.Helper()
	raw, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := participation.Join(ctx, o.AdminHTTP(t), o.AdminURL(i), raw)
	if err != nil {
		t.Fatalf("join %s: %v", o.Procs[i].Name, err)
	}
	return info
}

// Identity is a client identity: MSP signer plus TLS client cert.
type Identity struct {
	Signer          *msp.SigningIdentity
	TLSCert, TLSKey []byte
}

// User1 is Org1's ordinary client user.
func (o *Orderers) User1(t testing.TB) *Identity {
	return o.identity(t, filepath.Join(o.Layout.PeerOrgDir(o.org1()), "users", "User1@org1.example.com"), "Org1MSP")
}

// OrdererAdmin is the orderer org's admin user.
func (o *Orderers) OrdererAdmin(t testing.TB) *Identity {
	return o.identity(t, filepath.Join(o.ordererOrg(), "users", "Admin@example.com"), "OrdererMSP")
}

// Org1Admin is Org1's admin user.
func (o *Orderers) Org1Admin(t testing.TB) *Identity {
	return o.identity(t, filepath.Join(o.Layout.PeerOrgDir(o.org1()), "users", "Admin@org1.example.com"), "Org1MSP")
}

func (o *Orderers) identity(t testing.TB, userDir, mspID string) *Identity {
	t.Helper()
	s, err := msp.LoadSigningIdentity(filepath.Join(userDir, "msp"), mspID)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(filepath.Join(userDir, "tls", "client.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(userDir, "tls", "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &Identity{Signer: s, TLSCert: cert, TLSKey: key}
}

// DialContext connects id to orderer i over mutual TLS.
func (o *Orderers) DialContext(ctx context.Context, i int, id *Identity) (*grpc.ClientConn, error) {
	ca, err := os.ReadFile(filepath.Join(o.ordererOrg(), "tlsca", "tlsca.example.com-cert.pem"))
	if err != nil {
		return nil, err
	}
	conf, err := comm.ClientTLSConfig(id.TLSCert, id.TLSKey, [][]byte{ca}, "localhost")
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return comm.Dial(dctx, o.Address(i), conf)
}

// Dial connects id to orderer i over mutual TLS.
func (o *Orderers) Dial(t testing.TB, i int, id *Identity) *grpc.ClientConn {
	t.Helper()
	conn, err := o.DialContext(context.Background(), i, id)
	if err != nil {
		t.Fatalf("dial %s: %v", o.Procs[i].Name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Blocks fetches blocks [0, height) from orderer i as id.
func (o *Orderers) Blocks(t testing.TB, i int, id *Identity, height uint64) []*common.Block {
	t.Helper()
	conn := o.Dial(t, i, id)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*common.Block
	err := deliver.Pull(ctx, conn, o.Channel, id.Signer, 0, height-1, TLSCertHash(id.TLSCert), func(b *common.Block) error {
		out = append(out, b)
		return nil
	})
	if err != nil {
		t.Fatalf("pull from %s: %v", o.Procs[i].Name, err)
	}
	return out
}

// Metric reads one gauge for the channel from orderer i's /metrics; -1
// when the node does not answer.
func (o *Orderers) Metric(i int, name string) float64 {
	return o.metricAt(fmt.Sprintf("http://127.0.0.1:%d/metrics", o.Ep.OrdererOps(i)), name)
}

func (o *Orderers) metricAt(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{channel="` + regexp.QuoteMeta(o.Channel) + `"\} (\S+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(string(m[1])), 64)
	return v
}

// Leader returns the index of the orderer that reports itself leader,
// waiting up to timeout; -1 if none.
func (o *Orderers) Leader(timeout time.Duration, among []int) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, i := range among {
			if o.Procs[i].Running() && o.Metric(i, "consensus_etcdraft_is_leader") == 1 {
				return i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1
}

// WaitHeight waits until orderer i's channel height is at least h.
func (o *Orderers) WaitHeight(t testing.TB, i int, h uint64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got float64
	for time.Now().Before(deadline) {
		if got = o.Metric(i, "ledger_blockchain_height"); got >= float64(h) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: height %v, want >= %d after %v", o.Procs[i].Name, got, h, timeout)
}
