package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"weft/gen/network"
	"weft/internal/atomicfile"
)

// writeProfiles writes a Fabric common connection profile per org, where
// fabric-samples applications look for it
// (organizations/peerOrganizations/<domain>/connection-<org>.json).
func (u *up) writeProfiles() ([]string, error) {
	var paths []string
	for k := range u.n.Orgs {
		o := &u.n.Orgs[k]
		id, _ := u.n.MSPID(o.Name)
		ca, err := os.ReadFile(filepath.Join(u.l.PeerOrgDir(o), "tlsca", "tlsca."+o.Domain+"-cert.pem"))
		if err != nil {
			return nil, err
		}
		peers := map[string]any{}
		var names []string
		for p, h := range o.PeerHosts() {
			names = append(names, h)
			peers[h] = map[string]any{
				"url":        fmt.Sprintf("grpcs://localhost:%d", u.ep.Peer(k, p)),
				"tlsCACerts": map[string]string{"pem": string(ca)},
				"grpcOptions": map[string]string{
					"ssl-target-name-override": h,
					"hostnameOverride":         h,
				},
			}
		}
		orgEntry := map[string]any{"mspid": id, "peers": names}
		prof := map[string]any{
			"name":    u.n.Name + "-" + strings.ToLower(o.Name),
			"version": "1.0.0",
			"client": map[string]any{
				"organization": o.Name,
				"connection":   map[string]any{"timeout": map[string]any{"peer": map[string]string{"endorser": "300"}}},
			},
			"organizations": map[string]any{o.Name: orgEntry},
			"peers":         peers,
		}
		mode := os.FileMode(0o644)
		if o.HasCA() {
			secret, err := readCASecret(u.l, o)
			if err != nil {
				return nil, err
			}
			host := network.CAHost(o)
			orgEntry["certificateAuthorities"] = []string{host}
			prof["certificateAuthorities"] = map[string]any{host: map[string]any{
				"url":         caURL(u.ep, k),
				"caName":      network.CAName(o),
				"tlsCACerts":  map[string]any{"pem": []string{string(ca)}},
				"httpOptions": map[string]any{"verify": true},
				"registrar":   []map[string]string{{"enrollId": caAdmin, "enrollSecret": secret}},
			}}
			// The registrar's secret is in it.
			mode = 0o600
		}
		data, err := json.MarshalIndent(prof, "", "  ")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(u.l.PeerOrgDir(o), "connection-"+strings.ToLower(o.Name)+".json")
		if err := atomicfile.Write(path, data, mode); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
