package registrar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/policy"
	"weft/wire/common"
)

// puller fetches blocks of one channel from the other consenters through
// their Deliver service, authenticating with this node's cluster TLS
// identity, and checks each block's orderer signatures against the
// channel's BlockValidation policy before handing it on.
type puller struct {
	r       *Registrar
	channel string
	bundle  func() *channelconfig.Bundle
}

const blockValidationPolicy = "/Channel/Orderer/BlockValidation"

// Pull implements chain.BlockPuller: it tries each consenter in turn,
// resuming from the first block not yet handed to fn.
func (p *puller) Pull(ctx context.Context, from, to uint64, fn func(*common.Block) error) error {
	next := from
	var errs []error
	for attempt := 0; next <= to; attempt++ {
		b := p.bundle()
		var progressed bool
		for _, c := range b.EtcdRaftConsenters() {
			if bytes.Equal(c.GetClientTlsCert(), p.r.cfg.ClusterCertPEM) {
				continue
			}
			endpoint := fmt.Sprintf("%s:%d", c.GetHost(), c.GetPort())
			err := p.pullFrom(ctx, endpoint, c.GetServerTlsCert(), next, to, func(blk *common.Block) error {
				if err := verifyBlock(p.bundle(), blk); err != nil {
					return err
				}
				if err := fn(blk); err != nil {
					return err
				}
				next = blk.GetHeader().GetNumber() + 1
				progressed = true
				return nil
			})
			if err == nil || next > to {
				return nil
			}
			errs = append(errs, fmt.Errorf("%s: %w", endpoint, err))
			if ctx.Err() != nil {
				return errors.Join(append(errs, ctx.Err())...)
			}
		}
		if !progressed {
			select {
			case <-ctx.Done():
				return errors.Join(append(errs, ctx.Err())...)
			case <-time.After(backoff(attempt)):
			}
		}
	}
	return nil
}

func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 5)
	return min(d, 3*time.Second)
}

func (p *puller) pullFrom(ctx context.Context, endpoint string, serverCert []byte, from, to uint64, fn func(*common.Block) error) error {
	tlsConf, err := comm.PinnedClientTLSConfig(p.r.cfg.ClusterCertPEM, p.r.cfg.ClusterKeyPEM, serverCert)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := comm.Dial(dctx, endpoint, tlsConf)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	return deliver.Pull(ctx, conn, p.channel, p.r.cfg.Signer, from, to, comm.CertHash(p.r.cfg.ClusterCertPEM), fn)
}

// verifyBlock checks the orderer signatures of a pulled block against the
// BlockValidation policy, as a peer would.
func verifyBlock(b *channelconfig.Bundle, blk *common.Block) error {
	if blk.GetHeader().GetNumber() == 0 {
		return nil // the genesis block carries no signatures; its hash anchors the chain
	}
	md := blk.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_SIGNATURES) {
		return fmt.Errorf("block %d: no signatures metadata", blk.GetHeader().GetNumber())
	}
	var m common.Metadata
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], &m); err != nil {
		return fmt.Errorf("block %d: signatures metadata: %w", blk.GetHeader().GetNumber(), err)
	}
	header := channelconfig.BlockHeaderBytes(blk.GetHeader())
	var sd []policy.SignedData
	for _, s := range m.GetSignatures() {
		var sh common.SignatureHeader
		if err := proto.Unmarshal(s.GetSignatureHeader(), &sh); err != nil {
			return fmt.Errorf("block %d: signature header: %w", blk.GetHeader().GetNumber(), err)
		}
		data := append(append(append([]byte{}, m.GetValue()...), s.GetSignatureHeader()...), header...)
		sd = append(sd, policy.SignedData{Data: data, Identity: sh.GetCreator(), Signature: s.GetSignature()})
	}
	pol, ok := b.PolicyManager().Policy(blockValidationPolicy)
	if !ok {
		return fmt.Errorf("channel has no %s policy", blockValidationPolicy)
	}
	if err := pol.EvaluateSignedData(sd); err != nil {
		return fmt.Errorf("block %d: %s: %w", blk.GetHeader().GetNumber(), blockValidationPolicy, err)
	}
	return nil
}
