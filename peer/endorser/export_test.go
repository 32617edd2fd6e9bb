package endorser

import "weft/policy"

// PreProcess exposes the proposal checks to the external tests.
func (e *Endorser) PreProcess(p *Proposal, ch Channel) error {
	_, err := e.preProcess(p, ch)
	return err
}

// Memo exposes a proposal's verification memo.
func (p *Proposal) Memo() *policy.VerifyMemo { return p.memo }

// ProposalSignedData exposes the signed data ACLs see.
var ProposalSignedData = proposalSignedData
