package conformance

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// notImplemented lists Fabric message families weft deliberately does not
// define; everything else @hyperledger/fabric-protos exports must exist.
var notImplemented = []string{
	"orderer.smartbft.",            // BFT consensus is not offered
	"gossip.",                      // peers pull blocks from orderers; no gossip (discovery needs only Envelope)
	"orderer.ClusterNodeService",   // BFT-era cluster service
	"orderer.NodeAuthRequest",      // part of ClusterNodeService
	"orderer.NodeConsensusRequest", // part of ClusterNodeService
	"orderer.NodeTransactionOrderRequest",
	"orderer.TransactionOrderResponse",
}

func TestEveryFabricMessageExists(t *testing.T) {
	var names []string
	runNode(t, "list.js", []string{}, &names)
	if len(names) < 200 {
		t.Fatalf("node listed only %d message classes", len(names))
	}
	var missing []string
	for _, n := range names {
		if skipped(n) {
			continue
		}
		if _, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(n)); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d Fabric message types have no weft definition:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

func skipped(name string) bool {
	for _, p := range notImplemented {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
