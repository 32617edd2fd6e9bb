package runner

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"weft/gen/network"
	"weft/spec"
)

// Status reports every process of the network in dir.
func Status(dir string, n *spec.Network) *Network {
	ep := savedEndpoints(dir)
	st := &Network{Name: n.Name, Dir: dir}
	for _, c := range n.Channels {
		st.Channels = append(st.Channels, c.Name)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	orgs := map[string]string{}
	addrs := map[string]string{}
	for i, h := range n.OrdererHosts() {
		orgs[h], addrs[h] = n.Orderer.Org, ep.Address(ep.Orderer(i))
	}
	for k := range n.Orgs {
		for p, h := range n.Orgs[k].PeerHosts() {
			orgs[h], addrs[h] = n.Orgs[k].Name, ep.Address(ep.Peer(k, p))
		}
	}
	for _, k := range caOrgs(n) {
		h := network.CAHost(&n.Orgs[k])
		orgs[h], addrs[h] = n.Orgs[k].Name, ep.Address(ep.CA(k))
	}
	for _, p := range nodeProcs(n, dir, "", ep) {
		pid, ok := running(dir, p.name)
		ns := NodeStatus{Name: p.name, Kind: p.kind, Org: orgs[p.name], Address: addrs[p.name], PID: pid, Running: ok, Log: logFile(dir, p.name)}
		if ok {
			if resp, err := hc.Get(p.health); err == nil {
				ns.Healthy = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	for i, cc := range n.Chaincodes {
		if cc.CCaaS != nil {
			continue
		}
		name := "chaincode-" + cc.Name
		pid, ok := running(dir, name)
		st.Nodes = append(st.Nodes, NodeStatus{Name: name, Kind: "chaincode", Address: fmt.Sprintf("127.0.0.1:%d", ep.Chaincode(i)),
			PID: pid, Running: ok, Healthy: ok, Log: logFile(dir, name)})
	}
	return st
}

// Stop stops every process of the network in dir and keeps its data.
func Stop(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "run", "*.pid"))
	if err != nil {
		return err
	}
	// Chaincodes and peers first, orderers last: peers then stop pulling
	// blocks before the orderers go away.
	order := func(n string) int {
		switch {
		case len(n) >= 10 && n[:10] == "chaincode-":
			return 0
		case len(n) >= 4 && n[:4] == "peer":
			return 1
		}
		return 2
	}
	var list []string
	for _, f := range names {
		list = append(list, filepath.Base(f[:len(f)-len(".pid")]))
	}
	for phase := 0; phase < 3; phase++ {
		for _, name := range list {
			if order(name) == phase {
				if err := stop(dir, name, 15*time.Second); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Down stops the network and removes its data directory.
func Down(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, specFile)); err != nil {
		if os.IsNotExist(err) {
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				return nil
			}
			return fmt.Errorf("%s does not look like a weft data directory (no %s); not removing it", dir, specFile)
		}
		return err
	}
	if err := Stop(dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}
