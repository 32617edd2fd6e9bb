package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
		prof := map[string]any{
			"name":    u.n.Name + "-" + strings.ToLower(o.Name),
			"version": "1.0.0",
			"client": map[string]any{
				"organization": o.Name,
				"connection":   map[string]any{"timeout": map[string]any{"peer": map[string]string{"endorser": "300"}}},
			},
			"organizations": map[string]any{o.Name: map[string]any{"mspid": id, "peers": names}},
			"peers":         peers,
		}
		data, err := json.MarshalIndent(prof, "", "  ")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(u.l.PeerOrgDir(o), "connection-"+strings.ToLower(o.Name)+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
