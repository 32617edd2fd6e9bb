package lifecycle

import (
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/msp"
	"weft/msp/msptest"
	"weft/peer/chaincode"
	"weft/peer/txsim"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
	lb "weft/wire/peer/lifecycle"
)

const testChannel = "mychannel"

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// world is a two-org channel with a state database and one peer per org.
type world struct {
	bundle *channelconfig.Bundle
	db     *statedb.DB
	block  uint64

	org1, org2     *msptest.Org
	admin1, admin2 *msptest.Member
	peer1, peer2   *msptest.Member
	client1        *msptest.Member
	scc1, scc2     *SCC // the _lifecycle of a peer of Org1MSP / Org2MSP
	store1         *Store
}

func newMember(t testing.TB, o *msptest.Org, cn, role string) *msptest.Member {
	t.Helper()
	return must(o.Role(cn, role))(t)
}

func newBundle(t testing.TB, appCaps []string, orgs ...*msptest.Org) *channelconfig.Bundle {
	t.Helper()
	return newBundleWith(t, appCaps, false, orgs...)
}

// newBundleWith builds the channel; minimal drops the Endorsement and
// LifecycleEndorsement policies (a channel upgraded from Fabric v1.x).
func newBundleWith(t testing.TB, appCaps []string, minimal bool, orgs ...*msptest.Org) *channelconfig.Bundle {
	t.Helper()
	ord := must(msptest.NewOrg("OrdererMSP", false))(t)
	tlsCert, _, err := ord.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
	var apps []channelconfig.Org
	appPolicies := channelconfig.DefaultApplicationPolicies()
	if minimal {
		delete(appPolicies, "Endorsement")
		delete(appPolicies, "LifecycleEndorsement")
	}
	for _, o := range orgs {
		pols := channelconfig.DefaultOrgPolicies(o.MSPID)
		if minimal {
			delete(pols, "Endorsement")
		}
		apps = append(apps, channelconfig.Org{Name: o.MSPID, ID: o.MSPID, MSP: must(o.Config())(t), Policies: pols})
	}
	p := &channelconfig.Profile{
		Policies:     channelconfig.DefaultChannelPolicies(),
		Capabilities: channelconfig.DefaultChannelCapabilities(),
		Orderer: &channelconfig.OrdererSpec{
			OrdererType: channelconfig.OrdererTypeEtcdRaft,
			EtcdRaft: &channelconfig.EtcdRaftSpec{
				Consenters: []channelconfig.Consenter{{Host: "orderer0.example.com", Port: 7050, ClientTLSCert: tlsPEM, ServerTLSCert: tlsPEM}},
				Options:    channelconfig.DefaultEtcdRaftOptions(),
			},
			Organizations: []channelconfig.Org{{
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: must(ord.Config())(t),
				Policies:         channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"),
				OrdererEndpoints: []string{"orderer0.example.com:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: apps,
			Policies:      appPolicies,
			Capabilities:  appCaps,
		},
	}
	group := must(channelconfig.NewChannelGroup(p))(t)
	genesis := must(channelconfig.GenesisBlock(testChannel, group))(t)
	env, _, err := channelconfig.ConfigFromBlock(genesis)
	if err != nil {
		t.Fatal(err)
	}
	return must(channelconfig.NewBundle(testChannel, env.Config))(t)
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{
		org1: must(msptest.NewOrg("Org1MSP", false))(t),
		org2: must(msptest.NewOrg("Org2MSP", true))(t),
	}
	w.admin1 = newMember(t, w.org1, "Admin@org1", msptest.OUAdmin)
	w.admin2 = newMember(t, w.org2, "Admin@org2", msptest.OUAdmin)
	w.peer1 = newMember(t, w.org1, "peer0.org1", msptest.OUPeer)
	w.peer2 = newMember(t, w.org2, "peer0.org2", msptest.OUPeer)
	w.client1 = newMember(t, w.org1, "User1@org1", msptest.OUClient)
	w.bundle = newBundle(t, channelconfig.DefaultApplicationCapabilities(), w.org1, w.org2)
	w.db = must(statedb.Open(filepath.Join(t.TempDir(), "state.db")))(t)
	t.Cleanup(func() { w.db.Close() })
	w.store1 = must(OpenStore(t.TempDir()))(t)
	states := func() map[string]StateReader { return map[string]StateReader{testChannel: w.db} }
	w.scc1 = must(New(Options{Store: w.store1, IsLocalAdmin: w.isAdminOf("Org1MSP"), ChannelStates: states}))(t)
	w.scc2 = must(New(Options{Store: must(OpenStore(t.TempDir()))(t), IsLocalAdmin: w.isAdminOf("Org2MSP"), ChannelStates: states}))(t)
	return w
}

// isAdminOf is the local-MSP admin check of a peer of mspID.
func (w *world) isAdminOf(mspID string) func(*msp.Identity) bool {
	return func(id *msp.Identity) bool {
		m, ok := w.bundle.MSPManager().MSP(mspID)
		if !ok || id.MSPID != mspID {
			return false
		}
		roles, err := m.Roles(id)
		return err == nil && slices.Contains(roles, msp.RoleAdmin)
	}
}

func (w *world) identity(t testing.TB, m *msptest.Member) *msp.Identity {
	t.Helper()
	return must(w.bundle.MSPManager().DeserializeIdentity(m.Serialized))(t)
}

type stub struct {
	args    [][]byte
	sim     *txsim.Simulator
	channel string
	creator *msp.Identity
	local   string
	bundle  *channelconfig.Bundle
}

func (s *stub) Args() [][]byte                { return s.args }
func (s *stub) Simulator() *txsim.Simulator   { return s.sim }
func (s *stub) ChannelID() string             { return s.channel }
func (s *stub) Creator() *msp.Identity        { return s.creator }
func (s *stub) LocalMSPID() string            { return s.local }
func (s *stub) Bundle() *channelconfig.Bundle { return s.bundle }

// call invokes fn on the peer of org (1 or 2) as creator, on the channel
// unless channel is false, and returns the response and the simulator.
type callOpts struct {
	org     int
	creator *msptest.Member
	noChan  bool
	rawArgs [][]byte
}

func (w *world) call(t testing.TB, o callOpts, fn string, in proto.Message) (*peer.Response, *txsim.Simulator) {
	t.Helper()
	scc, local := w.scc1, "Org1MSP"
	if o.org == 2 {
		scc, local = w.scc2, "Org2MSP"
	}
	s := &stub{local: local}
	if o.creator != nil {
		s.creator = w.identity(t, o.creator)
	}
	if !o.noChan {
		s.channel, s.bundle = testChannel, w.bundle
		s.sim = txsim.New(w.db, "tx")
	}
	s.args = o.rawArgs
	if s.args == nil {
		s.args = [][]byte{[]byte(fn), must(proto.Marshal(in))(t)}
	}
	return scc.Invoke(context.Background(), s), s.sim
}

// commit applies the simulator's writes as the next block.
func (w *world) commit(t testing.TB, sim *txsim.Simulator) {
	t.Helper()
	res := must(sim.Results())(t)
	w.block++
	b := statedb.NewUpdateBatch()
	for _, ns := range res.NsRwset {
		kv := &kvrwset.KVRWSet{}
		if err := proto.Unmarshal(ns.Rwset, kv); err != nil {
			t.Fatal(err)
		}
		for _, wr := range kv.Writes {
			v := statedb.Version{BlockNum: w.block}
			if wr.IsDelete {
				b.Delete(ns.Namespace, wr.Key, v)
			} else {
				b.Put(ns.Namespace, wr.Key, wr.Value, nil, v)
			}
		}
	}
	if err := w.db.Commit(b, w.block); err != nil {
		t.Fatal(err)
	}
}

// ok invokes and commits, failing the test unless the response is 200.
func (w *world) ok(t testing.TB, o callOpts, fn string, in, out proto.Message) {
	t.Helper()
	resp, sim := w.call(t, o, fn, in)
	if resp.Status != 200 {
		t.Fatalf("%s: status %d: %s", fn, resp.Status, resp.Message)
	}
	if out != nil {
		if err := proto.Unmarshal(resp.Payload, out); err != nil {
			t.Fatalf("%s: result: %v", fn, err)
		}
	}
	if sim != nil {
		w.commit(t, sim)
	}
}

func (w *world) get(ns, key string) ([]byte, error) {
	vv, err := w.db.Get(ns, key)
	if err != nil || vv == nil {
		return nil, err
	}
	return vv.Value, nil
}

func ccaasPackage(t testing.TB, label, addr string) []byte {
	t.Helper()
	return must(chaincode.BuildCCaaSPackage(label, chaincode.Connection{Address: addr}))(t)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newSim(w *world) *txsim.Simulator { return txsim.New(w.db, "tx") }

func approveArgs(name string, seq int64, version, pkgID string) *lb.ApproveChaincodeDefinitionForMyOrgArgs {
	a := &lb.ApproveChaincodeDefinitionForMyOrgArgs{Name: name, Sequence: seq, Version: version}
	if pkgID != "" {
		a.Source = &lb.ChaincodeSource{Type: &lb.ChaincodeSource_LocalPackage{LocalPackage: &lb.ChaincodeSource_Local{PackageId: pkgID}}}
	}
	return a
}

func commitArgs(name string, seq int64, version string) *lb.CommitChaincodeDefinitionArgs {
	return &lb.CommitChaincodeDefinitionArgs{Name: name, Sequence: seq, Version: version}
}
