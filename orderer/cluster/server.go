package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"io"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"weft/comm"
	"weft/wire/common"
	"weft/wire/orderer"
)

// server is the inbound side of Comm.
type server struct {
	orderer.UnimplementedClusterServer
	comm *Comm
}

func (s *server) Step(stream orderer.Cluster_StepServer) error {
	ctx := stream.Context()
	cert, ok := comm.ClientCertificate(ctx)
	if !ok {
		s.comm.log.Warn("cluster: rejecting stream without TLS client certificate")
		return status.Error(codes.Unauthenticated, "cluster: a TLS client certificate is required")
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch p := req.GetPayload().(type) {
		case *orderer.StepRequest_ConsensusRequest:
			if err := s.consensus(ctx, cert, p.ConsensusRequest); err != nil {
				return err
			}
		case *orderer.StepRequest_SubmitRequest:
			resp, err := s.submit(ctx, cert, p.SubmitRequest)
			if err != nil {
				return err
			}
			if err := stream.Send(&orderer.StepResponse{Payload: &orderer.StepResponse_SubmitRes{SubmitRes: resp}}); err != nil {
				return err
			}
		default:
			return status.Error(codes.InvalidArgument, "cluster: StepRequest has no payload")
		}
	}
}

// authenticate maps the stream's certificate to a member of channel and
// returns the channel's handler, the member's ID and this node's ID.
func (s *server) authenticate(channel string, cert *x509.Certificate) (Handler, uint64, uint64, error) {
	c := s.comm
	c.mu.RLock()
	ch, h := c.channels[channel], c.handlers[channel]
	var from uint64
	var member bool
	if ch != nil {
		from, member = ch.byClientCert[string(cert.Raw)]
	}
	c.mu.RUnlock()
	switch {
	case ch == nil || h == nil:
		c.log.Warn("cluster: rejecting request for unknown channel",
			"channel", channel, "subject", cert.Subject.String())
		return nil, 0, 0, status.Errorf(codes.NotFound, "cluster: channel %q: %v", channel, ErrUnknownChannel)
	case !member:
		c.log.Warn("cluster: rejecting request from non-member",
			"channel", channel, "subject", cert.Subject.String())
		return nil, 0, 0, status.Errorf(codes.PermissionDenied, "cluster: channel %q: certificate %q: %v",
			channel, cert.Subject.String(), ErrNotMember)
	}
	return h, from, ch.self, nil
}

func (s *server) consensus(ctx context.Context, cert *x509.Certificate, req *orderer.ConsensusRequest) error {
	h, from, self, err := s.authenticate(req.GetChannel(), cert)
	if err != nil {
		return err
	}
	msg := &raftpb.Message{}
	if err := proto.Unmarshal(req.GetPayload(), msg); err != nil {
		s.comm.log.Warn("cluster: malformed raft message", "channel", req.GetChannel(), "from", from, "err", err)
		return status.Errorf(codes.InvalidArgument, "cluster: channel %q: payload: %v", req.GetChannel(), err)
	}
	// A member may speak only for itself, and only to us.
	if msg.GetFrom() != from || msg.GetTo() != self {
		s.comm.log.Warn("cluster: misaddressed raft message", "channel", req.GetChannel(),
			"from", from, "msg_from", msg.GetFrom(), "msg_to", msg.GetTo(), "self", self)
		return status.Errorf(codes.InvalidArgument,
			"cluster: channel %q: raft message from %d to %d on a stream of node %d to node %d",
			req.GetChannel(), msg.GetFrom(), msg.GetTo(), from, self)
	}
	if err := h.Step(ctx, from, msg); err != nil {
		// The chain's business (halted, stopping); raft will retry.
		s.comm.log.Debug("cluster: handler refused raft message", "channel", req.GetChannel(), "from", from, "err", err)
	}
	return nil
}

func (s *server) submit(ctx context.Context, cert *x509.Certificate, req *orderer.SubmitRequest) (*orderer.SubmitResponse, error) {
	h, from, _, err := s.authenticate(req.GetChannel(), cert)
	if err != nil {
		return nil, err
	}
	resp := &orderer.SubmitResponse{Channel: req.GetChannel(), Status: common.Status_SUCCESS}
	if req.GetPayload() == nil {
		resp.Status, resp.Info = common.Status_BAD_REQUEST, "submit request has no envelope"
		return resp, nil
	}
	if err := h.Submit(ctx, from, req.GetPayload()); err != nil {
		resp.Status, resp.Info = common.Status_SERVICE_UNAVAILABLE, err.Error()
		var se *SubmitError
		if errors.As(err, &se) && se.Status != common.Status_SUCCESS && se.Status != common.Status_UNKNOWN {
			resp.Status = se.Status
		}
	}
	return resp, nil
}
