package channel

import (
	"sync/atomic"
	"testing"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/fabcrypto"
	"weft/ledger/blockstore"
	"weft/msp"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/orderer"
)

// fakeOrderer serves AtomicBroadcast/Deliver over mutual TLS from its own
// block store, with weft's real deliver handler: the blocks are whatever the
// test put there, good or bad.
type fakeOrderer struct {
	store    *blockstore.Store
	bundle   *channelconfig.Bundle
	requests atomic.Int32
}

func (o *fakeOrderer) Channel(id string) (deliver.Channel, bool) {
	if id != testChannel {
		return nil, false
	}
	o.requests.Add(1)
	return o, true
}

func (o *fakeOrderer) Ledger() deliver.Ledger         { return deliver.StoreLedger(o.store) }
func (o *fakeOrderer) PolicyManager() *policy.Manager { return o.bundle.PolicyManager() }
func (o *fakeOrderer) MSPManager() *msp.Manager       { return o.bundle.MSPManager() }

type abServer struct {
	orderer.UnimplementedAtomicBroadcastServer
	h *deliver.Handler
}

func (s abServer) Deliver(srv orderer.AtomicBroadcast_DeliverServer) error {
	return s.h.Serve(deliver.OrdererStream(srv))
}

// startOrderer serves the genesis block and blocks on listener i.
func (f *fixture) startOrderer(t testing.TB, i int, blocks ...*common.Block) *fakeOrderer {
	t.Helper()
	o := &fakeOrderer{bundle: f.bundle, store: must(blockstore.Open(t.TempDir(), blockstore.Options{Sync: blockstore.SyncNever}))}
	t.Cleanup(func() { o.store.Close() })
	o.append(t, f.genesis)
	o.append(t, blocks...)
	srvTLS := issueTLS(t, f.ordTLSCA, "orderer.example.com")
	tlsConf := must(comm.ServerTLSConfig(srvTLS.cert, srvTLS.key, [][]byte{fabcrypto.EncodeCertPEM(f.peerTLSCA.Cert)}, true))
	srv := comm.NewGRPCServer(tlsConf, comm.ServerOptions{})
	h := &deliver.Handler{Source: o, Logger: quiet, ClientCertHash: comm.ClientCertHash, MutualTLS: true}
	orderer.RegisterAtomicBroadcastServer(srv, abServer{h: h})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(f.listeners[i]) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return o
}

func (o *fakeOrderer) append(t testing.TB, blocks ...*common.Block) {
	t.Helper()
	for _, b := range blocks {
		if err := o.store.Append(b); err != nil {
			t.Fatal(err)
		}
	}
}
