package endorser

import (
	"errors"
	"fmt"
	"time"

	"weft/channelconfig"
	"weft/msp"
	"weft/wire/common"
)

// identityDeserializer is an MSP manager or a single MSP.
type identityDeserializer interface {
	DeserializeIdentity(serialized []byte) (*msp.Identity, error)
}

// localDeserializer validates identities of the peer's own MSP, which is all
// channel-less proposals are checked against.
type localDeserializer struct{ m *msp.MSP }

func (l localDeserializer) DeserializeIdentity(b []byte) (*msp.Identity, error) {
	id, err := l.m.DeserializeIdentity(b)
	if err != nil {
		return nil, err
	}
	if err := l.m.Validate(id); err != nil {
		return nil, err
	}
	return id, nil
}

// checkHeaders applies Fabric's proposal header checks and the optional
// timestamp window (window 0 = no check, which is Fabric's behaviour).
func checkHeaders(p *Proposal, now time.Time, window time.Duration) error {
	switch common.HeaderType(p.ChannelHeader.Type) {
	case common.HeaderType_ENDORSER_TRANSACTION, common.HeaderType_CONFIG:
	default:
		return fmt.Errorf("channel header: invalid header type %s", common.HeaderType(p.ChannelHeader.Type))
	}
	if p.ChannelHeader.Epoch != 0 {
		return errors.New("channel header: epoch is non-zero")
	}
	if window > 0 {
		ts := p.ChannelHeader.Timestamp
		if ts == nil {
			return errors.New("channel header: timestamp is missing")
		}
		t := ts.AsTime()
		if t.Before(now.Add(-window)) || t.After(now.Add(window)) {
			return fmt.Errorf("channel header: timestamp %s is more than %s away from the peer's time %s", t.UTC().Format(time.RFC3339), window, now.UTC().Format(time.RFC3339))
		}
	}
	if len(p.SignatureHeader.Nonce) == 0 {
		return errors.New("signature header: nonce is empty")
	}
	if len(p.SignatureHeader.Creator) == 0 {
		return errors.New("signature header: creator is empty")
	}
	if want := channelconfig.ComputeTxID(p.SignatureHeader.Nonce, p.SignatureHeader.Creator); p.TxID() != want {
		return fmt.Errorf("incorrectly computed txid '%s' -- expected '%s'", p.TxID(), want)
	}
	if len(p.Signed.Signature) == 0 {
		return errors.New("signed proposal: signature is empty")
	}
	return nil
}

// checkCreator deserializes and validates the creator and verifies the
// proposal signature. Like Fabric, the client only learns "access denied";
// the detail goes to the peer's log via the returned cause.
func checkCreator(p *Proposal, ids identityDeserializer) (*msp.Identity, error) {
	id, err := ids.DeserializeIdentity(p.SignatureHeader.Creator)
	if err != nil {
		return nil, &accessError{msg: fmt.Sprintf("access denied: channel [%s] creator org unknown, creator is malformed", p.ChannelID()), cause: err}
	}
	if err := p.memo.Verify(id, p.Signed.ProposalBytes, p.Signed.Signature); err != nil {
		return nil, &accessError{msg: fmt.Sprintf("access denied: channel [%s] creator org [%s]", p.ChannelID(), id.MSPID), cause: err}
	}
	return id, nil
}

// accessError keeps the public message short and the cause for the log.
type accessError struct {
	msg   string
	cause error
}

func (e *accessError) Error() string { return e.msg }
func (e *accessError) Unwrap() error { return e.cause }
