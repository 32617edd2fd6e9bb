package network

import (
	"encoding/json"
	"fmt"
	"testing"
)

// allPorts lists every port a network of the given shape binds, named.
func allPorts(e Endpoints, orderers int, peersPerOrg []int, chaincodes int) map[string]int {
	out := map[string]int{}
	for i := 0; i < orderers; i++ {
		out[fmt.Sprintf("orderer%d", i)] = e.Orderer(i)
		out[fmt.Sprintf("orderer%d admin", i)] = e.OrdererAdmin(i)
		out[fmt.Sprintf("orderer%d ops", i)] = e.OrdererOps(i)
	}
	for k, peers := range peersPerOrg {
		for p := 0; p < peers; p++ {
			out[fmt.Sprintf("peer%d.org%d", p, k)] = e.Peer(k, p)
			out[fmt.Sprintf("peer%d.org%d ops", p, k)] = e.PeerOps(k, p)
		}
		out[fmt.Sprintf("ca.org%d", k)] = e.CA(k)
		out[fmt.Sprintf("ca.org%d ops", k)] = e.CAOps(k)
	}
	for j := 0; j < chaincodes; j++ {
		out[fmt.Sprintf("chaincode%d", j)] = e.Chaincode(j)
	}
	return out
}

// clashes names the first two entries sharing a port, "" when none do.
func clashes(ports map[string]int) string {
	seen := map[int]string{}
	for name, p := range ports {
		if other, ok := seen[p]; ok {
			return fmt.Sprintf("%s and %s both use %d", other, name, p)
		}
		seen[p] = name
	}
	return ""
}

func TestEndpointsDistinct(t *testing.T) {
	for _, base := range []int{7050, 17050, 27050, 37050, 1024} {
		e := EndpointsFrom(base)
		ports := allPorts(e, 5, []int{3, 3, 3}, 10)
		if c := clashes(ports); c != "" {
			t.Errorf("base %d: %s", base, c)
		}
		if got := len(ports); got != 5*3+3*(3*2+2)+10 {
			t.Errorf("base %d: %d named ports, want every one listed", base, got)
		}
	}
}

func TestClashesDetectsDuplicates(t *testing.T) {
	e := EndpointsFrom(7050)
	// A CA placed on the second orderer's admin port must be reported.
	e.CABase = e.OrdererAdmin(1)
	if clashes(allPorts(e, 5, []int{1, 1, 1}, 0)) == "" {
		t.Fatal("a CA on an orderer admin port was not reported")
	}
	if clashes(map[string]int{"a": 1, "b": 2}) != "" {
		t.Fatal("distinct ports reported as a clash")
	}
}

func TestEndpointsCA(t *testing.T) {
	cases := []struct {
		name    string
		e       Endpoints
		k       int
		ca, ops int
	}{
		{"test network default org1", DefaultEndpoints(), 0, 7054, 7055},
		{"test network default org2", DefaultEndpoints(), 1, 8054, 8055},
		{"shifted base", EndpointsFrom(17050), 2, 19054, 19055},
		{"explicit CABase", Endpoints{OrdererBase: 7050, CABase: 30000}, 1, 31000, 31001},
	}
	for _, c := range cases {
		if got := c.e.CA(c.k); got != c.ca {
			t.Errorf("%s: CA(%d) = %d, want %d", c.name, c.k, got, c.ca)
		}
		if got := c.e.CAOps(c.k); got != c.ops {
			t.Errorf("%s: CAOps(%d) = %d, want %d", c.name, c.k, got, c.ops)
		}
	}
}

// An endpoints.json written before CAs existed has no CABase; it must
// place the CAs where a new file would.
func TestEndpointsOldFileWithoutCA(t *testing.T) {
	old := []byte(`{"Host":"localhost","OrdererBase":17050,"PeerBase":17051,"OpsBase":19443,"ChaincodeBase":19990}`)
	var e Endpoints
	if err := json.Unmarshal(old, &e); err != nil {
		t.Fatal(err)
	}
	if e.CABase != 0 {
		t.Fatalf("CABase = %d from a file without it", e.CABase)
	}
	fresh := EndpointsFrom(17050)
	for k := 0; k < 3; k++ {
		if e.CA(k) != fresh.CA(k) || e.CAOps(k) != fresh.CAOps(k) {
			t.Errorf("org %d: old file gives %d/%d, new %d/%d", k, e.CA(k), e.CAOps(k), fresh.CA(k), fresh.CAOps(k))
		}
	}
	if c := clashes(allPorts(e, 3, []int{2, 2, 2}, 3)); c != "" {
		t.Errorf("old file: %s", c)
	}
}
