package peerdeliver

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/deliver"
	"weft/ledger/blockstore"
	"weft/msp/msptest"
	"weft/peer/channel"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/peer"
)

const testChannel = "mychannel"

var quiet = slog.New(slog.DiscardHandler)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// member adapts an msptest.Member to deliver.Signer.
type member struct{ *msptest.Member }

func (m member) Serialize() []byte { return m.Serialized }

type fixture struct {
	ch                            *channel.Channel
	client, ordererNode, outsider member
	blocks                        []*common.Block // as stored, filters set
	eventTx, plainTx, noCCEventTx string
}

// newFixture joins a channel and commits two data blocks into its ledger
// directly (as a committer would have), then reopens it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ordOrg := must(msptest.NewOrg("OrdererMSP", false))
	org1 := must(msptest.NewOrg("Org1MSP", false))
	org9 := must(msptest.NewOrg("Org9MSP", false))
	f := &fixture{
		client:      member{must(org1.Role("User1@org1", msptest.OUClient))},
		ordererNode: member{must(ordOrg.Role("orderer0", msptest.OUOrderer))},
		outsider:    member{must(org9.Role("User1@org9", msptest.OUClient))},
	}
	tlsCert, _ := must2(ordOrg.Root.Issue(msptest.CertOpts{CN: "orderer0.example.com"}))
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
				Name: "OrdererOrg", ID: "OrdererMSP", MSP: must(ordOrg.Config()),
				Policies: channelconfig.DefaultOrdererOrgPolicies("OrdererMSP"), OrdererEndpoints: []string{"orderer0.example.com:7050"},
			}},
			Policies:     channelconfig.DefaultOrdererPolicies(),
			Capabilities: channelconfig.DefaultOrdererCapabilities(),
		},
		Application: &channelconfig.ApplicationSpec{
			Organizations: []channelconfig.Org{{Name: "Org1MSP", ID: "Org1MSP", MSP: must(org1.Config()), Policies: channelconfig.DefaultOrgPolicies("Org1MSP")}},
			Policies:      channelconfig.DefaultApplicationPolicies(),
			Capabilities:  channelconfig.DefaultApplicationCapabilities(),
		},
	}
	genesis := must(channelconfig.GenesisBlock(testChannel, must(channelconfig.NewChannelGroup(p))))
	dir := filepath.Join(t.TempDir(), testChannel)
	deps := channel.Deps{Logger: quiet}
	must(channel.Join(dir, genesis, deps)).Close()

	var eventTx, plainTx, noCCTx []byte
	eventTx, f.eventTx = endorserTx(t, &peer.ChaincodeEvent{ChaincodeId: "basic", EventName: "created", Payload: []byte("secret")})
	plainTx, f.plainTx = endorserTx(t, nil)
	noCCTx, f.noCCEventTx = endorserTx(t, &peer.ChaincodeEvent{EventName: "orphan"})
	store := must(blockstore.Open(filepath.Join(dir, channel.BlocksDir), blockstore.Options{}))
	b1 := channelconfig.NewBlock(1, store.LastHeaderHash())
	b1.Data.Data = [][]byte{eventTx, plainTx}
	b1.Header.DataHash = channelconfig.BlockDataHash(b1.Data)
	b1.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{0, byte(peer.TxValidationCode_MVCC_READ_CONFLICT)}
	b2 := channelconfig.NewBlock(2, channelconfig.BlockHeaderHash(b1.Header))
	// The filter is one entry short: the last tx counts as INVALID_OTHER_REASON.
	b2.Data.Data = [][]byte{[]byte("junk"), noCCTx}
	b2.Header.DataHash = channelconfig.BlockDataHash(b2.Data)
	b2.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{byte(peer.TxValidationCode_BAD_PAYLOAD)}
	lastConfig := must(proto.Marshal(&common.Metadata{Value: must(proto.Marshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{}}))}))
	for _, b := range []*common.Block{b1, b2} {
		b.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES] = lastConfig
		if err := store.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	f.ch = must(channel.Open(dir, testChannel, deps))
	t.Cleanup(func() { f.ch.Close() })
	for n := range uint64(3) {
		f.blocks = append(f.blocks, must(f.ch.Store().Block(n)))
	}
	return f
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// endorserTx builds an ENDORSER_TRANSACTION carrying ev; only the structure
// matters here (nothing checks signatures on the delivery side).
func endorserTx(t testing.TB, ev *peer.ChaincodeEvent) ([]byte, string) {
	t.Helper()
	txID := channelconfig.ComputeTxID(channelconfig.NewNonce(), []byte("creator"))
	var events []byte
	if ev != nil {
		ev = proto.Clone(ev).(*peer.ChaincodeEvent)
		ev.TxId = txID
		events = must(proto.Marshal(ev))
	}
	chdr := must(proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: testChannel, TxId: txID}))
	prp := must(proto.Marshal(&peer.ProposalResponsePayload{Extension: must(proto.Marshal(&peer.ChaincodeAction{Events: events}))}))
	cp := must(proto.Marshal(&peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp}}))
	tx := must(proto.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: cp}}}))
	payload := must(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr}, Data: tx}))
	return must(proto.Marshal(&common.Envelope{Payload: payload, Signature: []byte("sig")})), txID
}

// serve runs the Deliver service on an in-process connection.
func serve(t testing.TB, s *Server) peer.DeliverClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	peer.RegisterDeliverServer(srv, s)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(lis) }()
	conn := must(grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })))
	t.Cleanup(func() { conn.Close(); srv.Stop(); wg.Wait() })
	return peer.NewDeliverClient(conn)
}

func specified(n uint64) *orderer.SeekPosition {
	return &orderer.SeekPosition{Type: &orderer.SeekPosition_Specified{Specified: &orderer.SeekSpecified{Number: n}}}
}

func seek(t testing.TB, signer deliver.Signer, channelID string, start, stop uint64) *common.Envelope {
	t.Helper()
	return must(deliver.NewSeekEnvelope(channelID, signer, &orderer.SeekInfo{Start: specified(start), Stop: specified(stop)}, nil, time.Now()))
}
