package broadcast

import (
	"context"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/orderer"
)

// WritersPolicy is the policy every broadcast envelope's signer must satisfy.
const WritersPolicy = "/Channel/Writers"

// Process checks one envelope and, if it is acceptable, orders it; the
// response is SUCCESS only after the chain committed it. It never panics and
// is safe for concurrent use.
func (h *Handler) Process(ctx context.Context, env *common.Envelope) (resp *orderer.BroadcastResponse) {
	var channel, txID string
	defer func() {
		if r := recover(); r != nil {
			h.logger().Error("broadcast: panic while processing envelope", "channel", channel, "tx_id", txID, "panic", r)
			resp = internal("internal error while processing the envelope").response()
		}
	}()
	p, rej := parse(env)
	if rej == nil {
		channel, txID = p.ch.ChannelId, p.ch.TxId
		rej = h.process(ctx, p)
	}
	if rej != nil {
		h.logger().Info("broadcast: rejected envelope", "channel", short(channel), "tx_id", short(txID),
			"status", rej.status.String(), "reason", rej.info)
		return rej.response()
	}
	h.logger().Debug("broadcast: envelope ordered", "channel", channel, "tx_id", txID, "type", p.typ.String())
	return &orderer.BroadcastResponse{Status: common.Status_SUCCESS}
}

// ProcessBytes is Process for an envelope still in wire form; it also
// rejects encodings that do not re-marshal to exactly raw, which Process
// cannot see once gRPC has decoded the message.
func (h *Handler) ProcessBytes(ctx context.Context, raw []byte) *orderer.BroadcastResponse {
	env := &common.Envelope{}
	if err := decodeCanonical(raw, env); err != nil {
		h.logger().Info("broadcast: rejected envelope", "status", common.Status_BAD_REQUEST.String(), "reason", err.Error())
		return badRequest("envelope: %v", err).response()
	}
	return h.Process(ctx, env)
}

func (h *Handler) process(ctx context.Context, p *parsed) *rejection {
	if h.Registrar == nil {
		return internal("orderer has no channel registrar")
	}
	support, ok := h.Registrar.Support(p.ch.ChannelId)
	if !ok || support == nil {
		// Fabric refuses unknown channels before its filters run, always
		// with BAD_REQUEST.
		return badRequest("channel %q does not exist on this orderer", p.ch.ChannelId)
	}
	bundle := support.Bundle()
	if bundle == nil {
		return reject(common.Status_SERVICE_UNAVAILABLE, "channel %q has no config yet", p.ch.ChannelId)
	}
	maxBytes, rej := absoluteMaxBytes(bundle)
	if rej != nil {
		return rej
	}
	if size := proto.Size(p.env); size > maxBytes {
		return reject(common.Status_BAD_REQUEST,
			"envelope of %d bytes exceeds the channel's BatchSize.AbsoluteMaxBytes of %d", size, maxBytes)
	}
	if rej := authorize(bundle, p); rej != nil {
		return rej
	}
	if rej := checkTxID(p); rej != nil {
		return rej
	}

	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	seq := bundle.Sequence()
	if p.typ == common.HeaderType_CONFIG_UPDATE {
		return h.configure(ctx, support, bundle, p, maxBytes)
	}
	// Fabric keeps normal traffic out while the consensus type is migrated.
	if bundle.ConsensusState() == orderer.ConsensusType_STATE_MAINTENANCE {
		return reject(common.Status_SERVICE_UNAVAILABLE, "channel %q is in maintenance mode; only config updates are accepted", p.ch.ChannelId)
	}
	if err := support.Order(ctx, p.env, seq); err != nil {
		return orderingFailure("ordering failed", err)
	}
	return nil
}

func absoluteMaxBytes(b *channelconfig.Bundle) (int, *rejection) {
	bs := b.BatchSize()
	if bs == nil || bs.AbsoluteMaxBytes == 0 {
		return 0, internal("channel %q config has no orderer batch size", b.ChannelID())
	}
	return int(bs.AbsoluteMaxBytes), nil
}

// authorize checks the creator against the channel MSPs, the signature and
// the Writers policy. The first two are also part of the policy evaluation,
// but checking them separately tells the client which one failed.
func authorize(b *channelconfig.Bundle, p *parsed) *rejection {
	return authorizeWith(b, p, policy.NewVerifyMemo())
}

// authorizeWith is authorize verifying through memo, which the Writers
// policy then reuses: the signature is verified once.
func authorizeWith(b *channelconfig.Bundle, p *parsed, memo *policy.VerifyMemo) *rejection {
	mspMgr := b.MSPManager()
	if mspMgr == nil {
		return internal("channel %q has no MSPs", b.ChannelID())
	}
	// Fabric's signature filter refuses a missing signer or signature as
	// any other policy failure: FORBIDDEN.
	if len(p.sh.Creator) == 0 {
		return forbidden("signature header: creator is missing")
	}
	if len(p.env.Signature) == 0 {
		return forbidden("envelope signature is empty")
	}
	id, err := mspMgr.DeserializeIdentity(p.sh.Creator)
	if err != nil {
		return forbidden("creator is not a valid identity of this channel: %v", err)
	}
	if err := memo.Verify(id, p.env.Payload, p.env.Signature); err != nil {
		return forbidden("envelope signature of %s is invalid: %v", id, err)
	}
	pm := b.PolicyManager()
	if pm == nil {
		return internal("channel %q has no policies", b.ChannelID())
	}
	pol, ok := pm.Policy(WritersPolicy)
	if !ok {
		return internal("channel %q has no %s policy", b.ChannelID(), WritersPolicy)
	}
	sd := policy.WithMemo([]policy.SignedData{{Data: p.env.Payload, Identity: p.sh.Creator, Signature: p.env.Signature}}, memo)
	if err := pol.EvaluateSignedData(sd); err != nil {
		return forbidden("policy %s not satisfied by %s: %v", WritersPolicy, id, err)
	}
	return nil
}

// configure turns an authorised CONFIG_UPDATE into the CONFIG envelope the
// chain orders.
func (h *Handler) configure(ctx context.Context, support Support, bundle *channelconfig.Bundle, p *parsed, maxBytes int) *rejection {
	ce, err := bundle.ProposeConfigUpdate(p.env)
	if err != nil {
		return badRequest("config update rejected: %v", err)
	}
	signer := support.Signer()
	if signer == nil || signer.Identity == nil || signer.Signer == nil {
		return internal("channel %q: orderer has no signing identity for config transactions", p.ch.ChannelId)
	}
	cfgEnv, err := configEnvelope(p.ch.ChannelId, ce, signer, h.now())
	if err != nil {
		return internal("channel %q: build config transaction: %v", p.ch.ChannelId, err)
	}
	if size := proto.Size(cfgEnv); size > maxBytes {
		return reject(common.Status_BAD_REQUEST,
			"resulting config transaction of %d bytes exceeds the channel's BatchSize.AbsoluteMaxBytes of %d", size, maxBytes)
	}
	if err := support.Configure(ctx, cfgEnv, bundle.Sequence()); err != nil {
		return orderingFailure("config update failed", err)
	}
	return nil
}
