package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
	"weft/wire/orderer"
)

// request is a decoded seek request whose headers passed the checks that
// need no channel.
type request struct {
	channelHeader   *common.ChannelHeader
	signatureHeader *common.SignatureHeader
	data            []byte // the SeekInfo, decoded once the channel is known
}

// parseRequest decodes env and checks header type, timestamp and TLS
// binding; every failure is the client's fault (BAD_REQUEST).
func (h *Handler) parseRequest(ctx context.Context, env *common.Envelope) (*request, error) {
	if env == nil {
		return nil, errors.New("envelope: missing")
	}
	payload := &common.Payload{}
	if err := proto.Unmarshal(env.Payload, payload); err != nil {
		return nil, fmt.Errorf("envelope.payload: %w", err)
	}
	if payload.Header == nil {
		return nil, errors.New("payload.header: missing")
	}
	chdr := &common.ChannelHeader{}
	if err := proto.Unmarshal(payload.Header.ChannelHeader, chdr); err != nil {
		return nil, fmt.Errorf("payload.header.channel_header: %w", err)
	}
	shdr := &common.SignatureHeader{}
	if err := proto.Unmarshal(payload.Header.SignatureHeader, shdr); err != nil {
		return nil, fmt.Errorf("payload.header.signature_header: %w", err)
	}
	if t := common.HeaderType(chdr.Type); t != common.HeaderType_DELIVER_SEEK_INFO {
		return nil, fmt.Errorf("channel_header.type: %v, want DELIVER_SEEK_INFO", t)
	}
	if err := h.checkTimestamp(chdr); err != nil {
		return nil, err
	}
	if err := h.checkBinding(ctx, chdr.TlsCertHash); err != nil {
		return nil, err
	}
	return &request{channelHeader: chdr, signatureHeader: shdr, data: payload.Data}, nil
}

func decodeSeek(data []byte) (*orderer.SeekInfo, error) {
	seek := &orderer.SeekInfo{}
	if err := proto.Unmarshal(data, seek); err != nil {
		return nil, fmt.Errorf("payload.data: seek info: %w", err)
	}
	return seek, nil
}

func (h *Handler) checkTimestamp(chdr *common.ChannelHeader) error {
	ts := chdr.Timestamp
	if ts == nil {
		return errors.New("channel_header.timestamp: missing")
	}
	if err := ts.CheckValid(); err != nil {
		return fmt.Errorf("channel_header.timestamp: %w", err)
	}
	window := h.TimeWindow
	if window <= 0 {
		window = DefaultTimeWindow
	}
	now := h.now()
	if d := now.Sub(ts.AsTime()).Abs(); d > window {
		return fmt.Errorf("channel_header.timestamp: %s is %s away from server time %s, more than %s",
			ts.AsTime().UTC().Format(time.RFC3339), d, now.UTC().Format(time.RFC3339), window)
	}
	return nil
}

// checkBinding ties the request to the TLS session it came on, so a captured
// request cannot be replayed over another client's connection. With mutual
// TLS the hash is required (as in Fabric). Without it Fabric ignores the
// field; we still reject a hash that contradicts a presented certificate, but
// accept one when no certificate was presented, because official clients set
// the hash whenever the application configured a client certificate, even
// against servers that do not ask for one.
func (h *Handler) checkBinding(ctx context.Context, claimed []byte) error {
	var actual []byte
	if h.ClientCertHash != nil {
		actual = h.ClientCertHash(ctx)
	}
	if !h.MutualTLS && (len(claimed) == 0 || len(actual) == 0) {
		return nil
	}
	if len(claimed) == 0 {
		return errors.New("channel_header.tls_cert_hash: missing, required with mutual TLS")
	}
	if len(actual) == 0 {
		return errors.New("channel_header.tls_cert_hash: set, but the client presented no TLS certificate")
	}
	if !bytes.Equal(claimed, actual) {
		return fmt.Errorf("channel_header.tls_cert_hash: %x does not match the client TLS certificate hash %x", claimed, actual)
	}
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
