package network

import (
	"fmt"

	"weft/spec"
)

// Endpoints places every node on this machine. The spec holds no ports
// (it must also describe a Kubernetes network), so the local runner
// decides them here. The defaults follow Fabric's test network where it
// has a node of the same kind (orderer 7050, admin 7053, peer0.org1 7051,
// peer0.org2 9051) and spread further nodes 100 ports apart.
type Endpoints struct {
	// Host is how nodes are reached; node TLS certificates carry
	// "localhost" and "127.0.0.1" as SANs.
	Host string
	// OrdererBase is the first orderer's client port; its cluster port is
	// the same (Fabric serves both on one listener by default) and its
	// admin port is OrdererBase+3.
	OrdererBase int
	// PeerBase is peer0 of the first org; org k starts at PeerBase+2000*k.
	PeerBase int
	// OpsBase is the first orderer's operations port (Fabric's 9443).
	OpsBase int
	// ChaincodeBase is the port of the first chaincode server a runner
	// starts from source.
	ChaincodeBase int `json:",omitempty"`
	// CABase is the first org's CA (Fabric's test network: 7054, 8054,
	// ...); zero, as in endpoints.json files written before CAs existed,
	// means OrdererBase+4.
	CABase int `json:",omitempty"`
}

// DefaultEndpoints are the loopback endpoints `weft up` uses.
func DefaultEndpoints() Endpoints { return EndpointsFrom(7050) }

// EndpointsFrom shifts the default layout so that the first orderer
// listens on base (two networks on one machine need different bases).
func EndpointsFrom(base int) Endpoints {
	return Endpoints{Host: "localhost", OrdererBase: base, PeerBase: base + 1, OpsBase: base + 2393, ChaincodeBase: base + 2940, CABase: base + 4}
}

// CA returns the API port of the k-th org's CA. Its last two digits (54
// by default) differ from every orderer (50, 53) and peer (51) port, so
// the 1000 steps between orgs cannot meet them.
func (e Endpoints) CA(k int) int {
	base := e.CABase
	if base == 0 {
		base = e.OrdererBase + 4
	}
	return base + 1000*k
}

// CAOps returns the operations port (/healthz, /metrics) of the k-th
// org's CA: the port after its API.
func (e Endpoints) CAOps(k int) int { return e.CA(k) + 1 }

// Chaincode returns the port of the i-th chaincode server.
func (e Endpoints) Chaincode(i int) int { return e.ChaincodeBase + i }

// Orderer returns the client (and cluster) port of orderer i.
func (e Endpoints) Orderer(i int) int { return e.OrdererBase + 100*i }

// OrdererAdmin returns the channel participation API port of orderer i.
func (e Endpoints) OrdererAdmin(i int) int { return e.Orderer(i) + 3 }

// Peer returns the port of peer p of the k-th org in the spec.
func (e Endpoints) Peer(k, p int) int { return e.PeerBase + 2000*k + 100*p }

// Address joins Host and port.
func (e Endpoints) Address(port int) string { return fmt.Sprintf("%s:%d", e.Host, port) }

// orgIndex is the position of an org in the spec, which fixes its ports.
func orgIndex(n *spec.Network, name string) int {
	for i := range n.Orgs {
		if n.Orgs[i].Name == name {
			return i
		}
	}
	return -1
}
