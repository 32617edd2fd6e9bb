package scc

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/msp"
	"weft/msp/msptest"
	"weft/peer/lifecycle"
	"weft/wire/common"
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

type stub struct {
	args    [][]byte
	creator *msp.Identity
}

func (s *stub) Args() [][]byte         { return s.args }
func (s *stub) Creator() *msp.Identity { return s.creator }

func strArgs(ss ...string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

// net is an org with an admin, a client and a channel genesis block.
type net struct {
	org           *msptest.Org
	mspMgr        *msp.Manager
	admin, client *msp.Identity
	genesis       *common.Block // with an Application group
	ordererOnly   *common.Block // without one
}

func profile(t testing.TB, org, ord *msptest.Org, withApp bool) *channelconfig.Profile {
	t.Helper()
	tlsCert, _, err := ord.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tlsPEM := msptest.EncodePEM(tlsCert)
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
	}
	if withApp {
		p.Application = &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{{Name: org.MSPID, ID: org.MSPID, MSP: must(org.Config())(t), Policies: channelconfig.DefaultOrgPolicies(org.MSPID)}},
			Policies:      channelconfig.DefaultApplicationPolicies(),
			Capabilities:  channelconfig.DefaultApplicationCapabilities(),
		}
	}
	return p
}

func newNet(t testing.TB) *net {
	t.Helper()
	org := must(msptest.NewOrg("Org1MSP", false))(t)
	ord := must(msptest.NewOrg("OrdererMSP", false))(t)
	n := &net{org: org}
	n.mspMgr = must(msp.NewManager(must(msp.New(must(org.Config())(t)))(t)))(t)
	n.admin = must(n.mspMgr.DeserializeIdentity(must(org.Role("Admin@org1", msptest.OUAdmin))(t).Serialized))(t)
	n.client = must(n.mspMgr.DeserializeIdentity(must(org.Role("User1@org1", msptest.OUClient))(t).Serialized))(t)
	n.genesis = must(channelconfig.GenesisBlock(testChannel, must(channelconfig.NewChannelGroup(profile(t, org, ord, true)))(t)))(t)
	n.ordererOnly = must(channelconfig.GenesisBlock("sysonly", must(channelconfig.NewChannelGroup(profile(t, org, ord, false)))(t)))(t)
	return n
}

func (n *net) isAdmin(id *msp.Identity) bool {
	m, ok := n.mspMgr.MSP(id.MSPID)
	if !ok {
		return false
	}
	roles, err := m.Roles(id)
	return err == nil && slices.Contains(roles, msp.RoleAdmin)
}

// channels is an in-memory Channels.
type channels struct {
	mu      sync.Mutex
	blocks  map[string]*common.Block
	joinErr error
}

func (c *channels) Join(b *common.Block) error {
	if c.joinErr != nil {
		return c.joinErr
	}
	_, id, err := channelconfig.ConfigFromBlock(b)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil {
		c.blocks = map[string]*common.Block{}
	}
	c.blocks[id] = proto.Clone(b).(*common.Block)
	return nil
}

func (c *channels) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id := range c.blocks {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (c *channels) ConfigBlock(ch string) (*common.Block, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blocks[ch]
	if !ok {
		return nil, errors.New("no such channel")
	}
	return b, nil
}

// The endorser hands system chaincodes a lifecycle.SysStub; it must do for
// cscc and qscc too.
var _ Stub = lifecycle.SysStub(nil)
