package channelconfig

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/policy"
	"weft/wire/common"
)

// ProposeConfigUpdate authorises a CONFIG_UPDATE transaction against this
// config and returns the resulting ConfigEnvelope (sequence+1, last_update
// = env), which the orderer wraps into a CONFIG transaction. The result is
// fully validated as a new Bundle before it is returned.
func (b *Bundle) ProposeConfigUpdate(env *common.Envelope) (*common.ConfigEnvelope, error) {
	next, err := b.applyUpdateTx(env, true)
	if err != nil {
		return nil, fmt.Errorf("config update for channel %q: %w", b.channelID, err)
	}
	return &common.ConfigEnvelope{Config: next.config, LastUpdate: proto.Clone(env).(*common.Envelope)}, nil
}

// ValidateConfigEnvelope checks a ConfigEnvelope received in a CONFIG block:
// its last_update must be authorised against this config and must produce
// exactly the config it carries.
func (b *Bundle) ValidateConfigEnvelope(env *common.ConfigEnvelope) error {
	_, err := b.ApplyConfigEnvelope(env)
	return err
}

// ApplyConfigEnvelope is ValidateConfigEnvelope returning the Bundle of the
// new config, for nodes that switch to it.
func (b *Bundle) ApplyConfigEnvelope(env *common.ConfigEnvelope) (*Bundle, error) {
	wrap := func(err error) error { return fmt.Errorf("config envelope for channel %q: %w", b.channelID, err) }
	switch {
	case env == nil:
		return nil, wrap(fmt.Errorf("envelope is nil"))
	case env.Config == nil:
		return nil, wrap(fmt.Errorf("config is nil"))
	case env.LastUpdate == nil:
		return nil, wrap(fmt.Errorf("last_update is nil"))
	case env.Config.Sequence != b.Sequence()+1:
		return nil, wrap(fmt.Errorf("sequence %d, expected %d", env.Config.Sequence, b.Sequence()+1))
	}
	// Lenient mode: a receiver must accept exactly what a Fabric orderer
	// would have produced, so it must not add checks of its own here.
	next, err := b.applyUpdateTx(env.LastUpdate, false)
	if err != nil {
		return nil, wrap(fmt.Errorf("last_update: %w", err))
	}
	if !proto.Equal(next.config.ChannelGroup, env.Config.ChannelGroup) {
		return nil, wrap(fmt.Errorf("config does not match the result of applying its last_update"))
	}
	return next, nil
}

// applyUpdateTx authorises the update carried by a CONFIG_UPDATE envelope
// and returns the Bundle of the resulting config.
func (b *Bundle) applyUpdateTx(env *common.Envelope, strict bool) (*Bundle, error) {
	cue, err := b.parseUpdateTx(env)
	if err != nil {
		return nil, err
	}
	merged, delta, err := b.authorize(cue, strict)
	if err != nil {
		return nil, err
	}
	root, err := rebuildConfig(merged)
	if err != nil {
		return nil, fmt.Errorf("rebuilding config: %w", err)
	}
	cfg := &common.Config{Sequence: b.Sequence() + 1, ChannelGroup: root}
	next, err := newBundle(b.channelID, cfg)
	if err != nil {
		return nil, fmt.Errorf("resulting config is invalid: %w", err)
	}
	if strict {
		// An element whose mod_policy names no policy could never be
		// changed again; refuse to create such a dead end.
		for _, k := range sortedKeys(delta) {
			e := delta[k]
			if _, ok := next.policies.Policy(e.resolveModPolicy()); !ok {
				return nil, fmt.Errorf("%s: mod_policy %q: policy not found in resulting config", e.name(), e.resolveModPolicy())
			}
		}
	}
	return next, nil
}

// parseUpdateTx unwraps Envelope -> Payload -> ConfigUpdateEnvelope,
// insisting on a CONFIG_UPDATE header for this channel.
func (b *Bundle) parseUpdateTx(env *common.Envelope) (*common.ConfigUpdateEnvelope, error) {
	if env == nil {
		return nil, fmt.Errorf("envelope is nil")
	}
	payload := &common.Payload{}
	if err := proto.Unmarshal(env.Payload, payload); err != nil {
		return nil, fmt.Errorf("envelope payload: %w", err)
	}
	if payload.Header == nil {
		return nil, fmt.Errorf("envelope payload: header missing")
	}
	ch := &common.ChannelHeader{}
	if err := proto.Unmarshal(payload.Header.ChannelHeader, ch); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	if ch.Type != int32(common.HeaderType_CONFIG_UPDATE) {
		return nil, fmt.Errorf("channel header: type %d, expected CONFIG_UPDATE (%d)", ch.Type, int32(common.HeaderType_CONFIG_UPDATE))
	}
	if ch.ChannelId != b.channelID {
		return nil, fmt.Errorf("channel header: channel ID %q does not match", ch.ChannelId)
	}
	cue := &common.ConfigUpdateEnvelope{}
	if err := proto.Unmarshal(payload.Data, cue); err != nil {
		return nil, fmt.Errorf("config update envelope: %w", err)
	}
	return cue, nil
}

// authorize checks a ConfigUpdateEnvelope against this config and returns
// the flattened config with the update applied.
func (b *Bundle) authorize(cue *common.ConfigUpdateEnvelope, strict bool) (merged, delta map[string]*configElem, err error) {
	cu := &common.ConfigUpdate{}
	if err := proto.Unmarshal(cue.ConfigUpdate, cu); err != nil {
		return nil, nil, fmt.Errorf("config update: %w", err)
	}
	if cu.ChannelId != b.channelID {
		return nil, nil, fmt.Errorf("config update: channel ID %q does not match", cu.ChannelId)
	}
	readSet, err := flattenConfig(cu.ReadSet)
	if err != nil {
		return nil, nil, fmt.Errorf("read set: %w", err)
	}
	if err := b.checkReadSet(readSet); err != nil {
		return nil, nil, err
	}
	writeSet, err := flattenConfig(cu.WriteSet)
	if err != nil {
		return nil, nil, fmt.Errorf("write set: %w", err)
	}
	delta = map[string]*configElem{}
	for k, w := range writeSet {
		if r, ok := readSet[k]; ok && r.version() == w.version() {
			continue
		}
		delta[k] = w
	}
	if len(delta) == 0 {
		return nil, nil, fmt.Errorf("write set changes nothing (empty delta)")
	}
	signed, err := configSignedData(cue)
	if err != nil {
		return nil, nil, err
	}
	if err := b.checkDelta(delta, signed); err != nil {
		return nil, nil, err
	}
	merged = make(map[string]*configElem, len(b.elems)+len(delta))
	for k, e := range b.elems {
		merged[k] = e
	}
	for k, e := range delta {
		merged[k] = e
	}
	if strict {
		for _, k := range sortedKeys(delta) {
			if !reachable(merged, delta[k]) {
				return nil, nil, fmt.Errorf("%s: in write set but its parent group does not list it (bump the parent group's version)", delta[k].name())
			}
		}
	}
	return merged, delta, nil
}

func (b *Bundle) checkReadSet(readSet map[string]*configElem) error {
	for _, k := range sortedKeys(readSet) {
		r := readSet[k]
		cur, ok := b.elems[k]
		if !ok {
			return fmt.Errorf("%s: in read set but not in current config", r.name())
		}
		if cur.version() != r.version() {
			return fmt.Errorf("%s: version %d in read set, current version is %d", r.name(), r.version(), cur.version())
		}
	}
	return nil
}

// checkDelta verifies versions and, for modified elements, that the
// existing element's mod_policy is satisfied by the update's signatures.
func (b *Bundle) checkDelta(delta map[string]*configElem, signed []policy.SignedData) error {
	for _, k := range sortedKeys(delta) {
		w := delta[k]
		if err := validateModPolicy(w.modPolicy()); err != nil {
			return fmt.Errorf("%s: %w", w.name(), err)
		}
		cur, ok := b.elems[k]
		if !ok {
			if w.version() != 0 {
				return fmt.Errorf("%s: version %d in write set for an element that does not exist, expected 0", w.name(), w.version())
			}
			continue
		}
		if w.version() != cur.version()+1 {
			return fmt.Errorf("%s: version %d in write set, expected %d", w.name(), w.version(), cur.version()+1)
		}
		if cur.modPolicy() == "" {
			return fmt.Errorf("%s: existing element has no mod_policy and cannot be modified", w.name())
		}
		ref := cur.resolveModPolicy()
		pol, ok := b.policies.Policy(ref)
		if !ok {
			return fmt.Errorf("%s: mod_policy %q: policy not found", w.name(), ref)
		}
		if err := pol.EvaluateSignedData(signed); err != nil {
			return fmt.Errorf("%s: mod_policy %q not satisfied: %w", w.name(), ref, err)
		}
	}
	return nil
}

// configSignedData turns ConfigSignatures into policy input: each signature
// covers signature_header || config_update and is attributed to the
// creator named in its signature header.
func configSignedData(cue *common.ConfigUpdateEnvelope) ([]policy.SignedData, error) {
	out := make([]policy.SignedData, 0, len(cue.Signatures))
	for i, s := range cue.Signatures {
		sh := &common.SignatureHeader{}
		if err := proto.Unmarshal(s.GetSignatureHeader(), sh); err != nil {
			return nil, fmt.Errorf("config signature %d: signature header: %w", i, err)
		}
		data := make([]byte, 0, len(s.GetSignatureHeader())+len(cue.ConfigUpdate))
		data = append(append(data, s.GetSignatureHeader()...), cue.ConfigUpdate...)
		out = append(out, policy.SignedData{Data: data, Identity: sh.Creator, Signature: s.GetSignature()})
	}
	return out, nil
}
