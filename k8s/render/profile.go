package render

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"weft/spec"
)

// ProfileSecretName is the Secret in each peer org's namespace that holds
// the org's connection profile under ProfileKey(org).
const ProfileSecretName = "connection-profile"

// ProfileKey is the data key of an org's connection profile, the file name
// fabric-samples applications look for.
func ProfileKey(org string) string { return "connection-" + strings.ToLower(org) + ".json" }

// profile is a Fabric common connection profile for one org. Peers are
// given by their external address when the network is exposed and by
// their Service name otherwise; the TLS name is overridden to the peer's
// Fabric host name, which its certificate always carries, so clients
// connecting through a NodePort or load balancer address still verify it.
func (r *renderer) profile(o *spec.Org) ([]byte, error) {
	dir := r.t.orgDir(o.Name)
	tlsCA := r.m.Files[dir+"/tlsca/tlsca."+o.Domain+"-cert.pem"]
	if len(tlsCA) == 0 {
		return nil, fmt.Errorf("org %s: TLS CA certificate is missing from the crypto material", o.Name)
	}
	peers := map[string]any{}
	var names []string
	for _, p := range r.t.orgPeers(o.Name) {
		addr := p.externalAddr()
		if addr == "" {
			addr = p.internalAddr()
		}
		names = append(names, p.host)
		peers[p.host] = map[string]any{
			"url":        "grpcs://" + addr,
			"tlsCACerts": map[string]string{"pem": string(tlsCA)},
			"grpcOptions": map[string]string{
				"ssl-target-name-override": p.host,
				"hostnameOverride":         p.host,
			},
		}
	}
	org := map[string]any{"mspid": o.MSPID, "peers": names}
	prof := map[string]any{
		"name":    r.t.net.Name + "-" + strings.ToLower(o.Name),
		"version": "1.0.0",
		"client": map[string]any{
			"organization": o.Name,
			"connection":   map[string]any{"timeout": map[string]any{"peer": map[string]string{"endorser": "300"}}},
		},
		"organizations": map[string]any{o.Name: org},
		"peers":         peers,
	}
	for _, ca := range r.t.cas {
		if ca.orgName != o.Name {
			continue
		}
		org["certificateAuthorities"] = []string{ca.host}
		prof["certificateAuthorities"] = map[string]any{ca.host: map[string]any{
			"url":         "https://" + ca.internalAddr(),
			"caName":      CAName(o.Name),
			"tlsCACerts":  map[string]any{"pem": []string{string(r.m.Files[dir+"/ca/"+ca.host+"-cert.pem"])}},
			"httpOptions": map[string]bool{"verify": false},
		}}
	}
	return json.MarshalIndent(prof, "", "  ")
}

func (r *renderer) profileSecret(o *spec.Org) (*corev1.Secret, error) {
	data, err := r.profile(o)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: r.meta(ProfileSecretName, r.t.orgNamespace(o.Name), o.Name, "", ""),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{ProfileKey(o.Name): data},
	}, nil
}
