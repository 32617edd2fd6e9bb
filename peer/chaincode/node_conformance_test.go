package chaincode

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/msp"
	pb "weft/wire/peer"
)

// This file runs the real fabric-shim 2.5.8 (conformance/node/chaincode, an
// asset contract) as chaincode servers and drives them through the runtime
// against a real state database and simulator.

const nodeChaincodeDir = "../../conformance/node/chaincode"

// nodeCC is one chaincode server process.
type nodeCC struct {
	t    *testing.T
	ccid string
	conn *Connection
	cmd  *exec.Cmd
	out  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func requireNode(t *testing.T) (node, cli string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIPPED: `node` is not on PATH; this fabric-shim conformance test needs Node.js 18+ " +
			"(then run: npm install --prefix conformance/node)")
	}
	cli, err = filepath.Abs(filepath.Join(nodeChaincodeDir, "..", "node_modules", "fabric-shim", "cli.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("fabric-shim is not installed (%v): run `npm install --prefix conformance/node` from the repository root", err)
	}
	return node, cli
}

func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// startNodeCC packages a CCaaS chaincode for a free loopback port and starts
// the contract there with CHAINCODE_ID = the package ID.
func startNodeCC(t *testing.T, label string) *nodeCC {
	t.Helper()
	conn := Connection{Address: freeAddr(t), DialTimeout: 5 * time.Second}
	pkg, err := BuildCCaaSPackage(label, conn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	n := &nodeCC{t: t, ccid: p.ID, conn: p.Connection}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *nodeCC) start() {
	t := n.t
	t.Helper()
	node, cli := requireNode(t)
	n.out = &lockedBuffer{}
	n.cmd = exec.Command(node, cli, "server", "--chaincode-address="+n.conn.Address, "--chaincode-id="+n.ccid)
	n.cmd.Dir = nodeChaincodeDir
	n.cmd.Env = append(os.Environ(), "CHAINCODE_SERVER_ADDRESS="+n.conn.Address, "CHAINCODE_ID="+n.ccid, "CORE_CHAINCODE_LOGGING_LEVEL=warn")
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start chaincode server: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.conn.Address, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			n.stop()
			t.Fatalf("chaincode server %s did not listen within 20s; output:\n%s", n.conn.Address, n.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *nodeCC) stop() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		if n.t.Failed() {
			n.t.Logf("output of chaincode %s:\n%s", n.ccid, n.out)
		}
		n.cmd = nil
	}
}

// ccNet routes invocations by chaincode name to the servers, sharing the
// caller's simulator for same-channel chaincode-to-chaincode calls.
type ccNet struct {
	t   *testing.T
	l   *testLedger
	r   *Runtime
	ccs map[string]*nodeCC
	// creator is the PEM certificate the proposals are made by.
	creator []byte
	seq     int
	mu      sync.Mutex
}

type invokeResult struct {
	resp *pb.Response
	ev   *pb.ChaincodeEvent
	rws  *rwset.TxReadWriteSet
	txid string
}

func (n *ccNet) txid() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	return fmt.Sprintf("tx%04d", n.seq)
}

func (n *ccNet) context(name, channel, txid string) *fakeTx {
	tx := &fakeTx{channel: channel, txid: txid, name: name}
	tx.sp = n.proposal(channel, txid, name)
	tx.invoke = func(ctx context.Context, callee string, args [][]byte, ch string) (*pb.Response, *pb.ChaincodeEvent, error) {
		cc, ok := n.ccs[callee]
		if !ok {
			return nil, nil, fmt.Errorf("chaincode %s is not defined on channel %s", callee, ch)
		}
		if ch != channel {
			return nil, nil, fmt.Errorf("channel %s is not joined", ch)
		}
		sub := n.context(callee, ch, txid)
		sub.sim = tx.sim
		return n.r.Execute(ctx, cc.ccid, cc.conn, sub, &pb.ChaincodeInput{Args: args}, false)
	}
	return tx
}

// invoke simulates one transaction; commit applies its writes when it succeeded.
func (n *ccNet) invoke(commit bool, name string, args ...string) invokeResult {
	n.t.Helper()
	txid := n.txid()
	tx := n.context(name, "mychannel", txid)
	tx.sim = n.l.sim(txid)
	defer tx.sim.Done()
	cc := n.ccs[name]
	resp, ev, err := n.r.Execute(context.Background(), cc.ccid, cc.conn, tx, input(args...), false)
	if err != nil {
		n.t.Fatalf("%s %v: %v", name, args, err)
	}
	rws, err := tx.sim.Results()
	if err != nil {
		n.t.Fatal(err)
	}
	if commit && resp.GetStatus() == 200 {
		n.l.commit(txid, rws)
	}
	return invokeResult{resp, ev, rws, txid}
}

func (n *ccNet) ok(commit bool, name string, args ...string) invokeResult {
	n.t.Helper()
	res := n.invoke(commit, name, args...)
	if res.resp.GetStatus() != 200 {
		n.t.Fatalf("%s %v: status %d message %q", name, args, res.resp.GetStatus(), res.resp.GetMessage())
	}
	return res
}

// proposal builds the client's signed proposal as the shim parses it: the
// stub reads the creator, timestamp and invocation from it. The signature is
// not checked by the chaincode.
func (n *ccNet) proposal(channel, txid, name string) *pb.SignedProposal {
	n.t.Helper()
	must := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			n.t.Fatal(err)
		}
		return b
	}
	creator := must(&msp.SerializedIdentity{Mspid: "Org1MSP", IdBytes: n.creator})
	hdr := &common.Header{
		ChannelHeader: must(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: channel, TxId: txid,
			Timestamp: timestamppb.New(time.Unix(1700000000, 0))}),
		SignatureHeader: must(&common.SignatureHeader{Creator: creator, Nonce: []byte("nonce-" + txid)}),
	}
	cis := must(&pb.ChaincodeInvocationSpec{ChaincodeSpec: &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: name}}})
	prop := &pb.Proposal{Header: must(hdr), Payload: must(&pb.ChaincodeProposalPayload{Input: cis})}
	return &pb.SignedProposal{ProposalBytes: must(prop), Signature: []byte("unchecked")}
}
