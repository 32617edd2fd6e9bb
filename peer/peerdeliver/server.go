// Package peerdeliver is the peer's protos.Deliver gRPC service: committed
// blocks of its channels as full blocks, filtered blocks (what the Fabric
// gateway client's commit and chaincode event listeners consume) or blocks
// with (for now empty) private data.
//
// The request handling (seek, signature, time window, TLS binding, reader
// policy, waiting for new blocks) is weft/deliver's Handler; this package
// only adapts the response messages.
package peerdeliver

import (
	"errors"
	"log/slog"
	"time"

	"weft/comm"
	"weft/deliver"
	"weft/msp"
	"weft/peer/channel"
	"weft/policy"
	"weft/wire/peer"
)

// ReadersPolicy is the policy a client must satisfy to receive blocks or
// events of a channel: the default of Fabric's event/Block and
// event/FilteredBlock ACLs.
const ReadersPolicy = "/Channel/Application/Readers"

// Config configures a Server.
type Config struct {
	// Channel finds a joined channel by name.
	Channel func(id string) (*channel.Channel, bool)
	Logger  *slog.Logger
	// TimeWindow bounds the skew of request timestamps (default 15m).
	TimeWindow time.Duration
	// MutualTLS says the peer's server requires client certificates, so
	// requests must carry the hash of the presented one.
	MutualTLS bool
}

// Server implements peer.DeliverServer.
type Server struct {
	peer.UnimplementedDeliverServer
	h   *deliver.Handler
	log *slog.Logger
}

// New returns the Deliver service over the channels cfg.Channel finds.
func New(cfg Config) (*Server, error) {
	if cfg.Channel == nil {
		return nil, errors.New("peer deliver: config: channel lookup: nil")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{
		h: &deliver.Handler{
			Source:         source(cfg.Channel),
			TimeWindow:     cfg.TimeWindow,
			Policy:         ReadersPolicy,
			Logger:         log,
			ClientCertHash: comm.ClientCertHash,
			MutualTLS:      cfg.MutualTLS,
		},
		log: log,
	}, nil
}

// Deliver streams full blocks, TRANSACTIONS_FILTER included.
func (s *Server) Deliver(srv peer.Deliver_DeliverServer) error {
	return s.h.Serve(deliver.PeerStream(srv))
}

// DeliverFiltered streams FilteredBlocks.
func (s *Server) DeliverFiltered(srv peer.Deliver_DeliverFilteredServer) error {
	return s.h.Serve(&filteredStream{srv: srv, log: s.log})
}

// DeliverWithPrivateData streams blocks wrapped in BlockAndPrivateData.
// weft has no private data yet, so the map is always empty.
func (s *Server) DeliverWithPrivateData(srv peer.Deliver_DeliverWithPrivateDataServer) error {
	return s.h.Serve(privateDataStream{srv})
}

// source adapts the peer's channel lookup to deliver.Source.
type source func(id string) (*channel.Channel, bool)

func (f source) Channel(id string) (deliver.Channel, bool) {
	ch, ok := f(id)
	if !ok || ch == nil {
		return nil, false
	}
	return channelView{ch}, true
}

// channelView shows a peer channel to the deliver handler. The policy
// manager changes with every applied config block, which makes running
// streams re-check their reader.
type channelView struct{ ch *channel.Channel }

func (v channelView) Ledger() deliver.Ledger         { return v.ch.Ledger() }
func (v channelView) PolicyManager() *policy.Manager { return v.ch.Bundle().PolicyManager() }
func (v channelView) MSPManager() *msp.Manager       { return v.ch.Bundle().MSPManager() }
