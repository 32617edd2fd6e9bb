package chaincode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	pb "weft/wire/peer"
)

// txState is one running transaction on a stream.
type txState struct {
	h     *handler
	ctx   context.Context
	ns    string
	tc    TxContext
	final chan *pb.ChaincodeMessage
	// busy enforces the shim's rule of one outstanding request per transaction.
	busy atomic.Bool

	mu    sync.Mutex
	iters map[string]*queryIter
	// Fabric allows paginated queries only in read-only transactions.
	wrote, paginated bool
}

func newTxState(h *handler, ctx context.Context, ns string, tc TxContext) *txState {
	return &txState{h: h, ctx: ctx, ns: ns, tc: tc, final: make(chan *pb.ChaincodeMessage, 1), iters: map[string]*queryIter{}}
}

func (tx *txState) closeIterators() {
	tx.mu.Lock()
	its := tx.iters
	tx.iters = map[string]*queryIter{}
	tx.mu.Unlock()
	for _, it := range its {
		it.close()
	}
}

func (tx *txState) beforeWrite() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.paginated {
		return errors.New("writes are not allowed after a paginated query (paginated queries are for read-only transactions)")
	}
	tx.wrote = true
	return nil
}

func (tx *txState) beforePaginatedQuery() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.wrote {
		return errors.New("paginated queries are not allowed after a write (paginated queries are for read-only transactions)")
	}
	tx.paginated = true
	return nil
}

type nsKey struct{}

// withCallee marks ctx as belonging to a chaincode-to-chaincode call of name.
func withCallee(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, nsKey{}, name)
}

// namespaceOf finds the chaincode name of an invocation (see TxContext).
func namespaceOf(ctx context.Context, tc TxContext) (string, error) {
	if n, ok := tc.(interface{ ChaincodeName() string }); ok && n.ChaincodeName() != "" {
		return n.ChaincodeName(), nil
	}
	if name, ok := ctx.Value(nsKey{}).(string); ok && name != "" {
		return name, nil
	}
	name, err := proposalChaincode(tc.SignedProposal())
	if err != nil {
		return "", fmt.Errorf("chaincode name: %w", err)
	}
	return name, nil
}

func proposalChaincode(sp *pb.SignedProposal) (string, error) {
	if sp == nil {
		return "", errors.New("no signed proposal to read it from")
	}
	prop := &pb.Proposal{}
	if err := proto.Unmarshal(sp.GetProposalBytes(), prop); err != nil {
		return "", fmt.Errorf("proposal: %w", err)
	}
	cpp := &pb.ChaincodeProposalPayload{}
	if err := proto.Unmarshal(prop.GetPayload(), cpp); err != nil {
		return "", fmt.Errorf("proposal payload: %w", err)
	}
	cis := &pb.ChaincodeInvocationSpec{}
	if err := proto.Unmarshal(cpp.GetInput(), cis); err != nil {
		return "", fmt.Errorf("proposal invocation spec: %w", err)
	}
	name := cis.GetChaincodeSpec().GetChaincodeId().GetName()
	if name == "" {
		return "", errors.New("proposal names no chaincode")
	}
	return name, nil
}
