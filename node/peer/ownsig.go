package peer

import (
	"weft/msp"
	"weft/peer/validator"
)

// ownSignatureCapacity bounds the endorsements remembered between
// endorsing and validating: a few seconds of transactions at thousands
// per second. Older ones are verified as usual when their block comes.
const ownSignatureCapacity = 1 << 15

// recordingSigner signs endorsements with the peer's identity and
// remembers each signature, so the committer need not verify the peer's
// own endorsements again when their transactions arrive in a block.
type recordingSigner struct {
	id  *msp.SigningIdentity
	own *validator.OwnSignatures
}

func (s recordingSigner) Serialize() []byte { return s.id.Serialize() }

func (s recordingSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := s.id.Sign(msg)
	if err != nil {
		return nil, err
	}
	s.own.Record(s.id.Serialize(), msg, sig)
	return sig, nil
}
