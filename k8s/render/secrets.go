package render

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// secretKey turns a relative path into a Secret data key. Keys allow only
// [-._a-zA-Z0-9], and cryptogen's names hold "/" and "@" (users'
// "Admin@org1.example.com-cert.pem"), so every other byte, and "_" itself
// to keep the mapping reversible, becomes "_" plus two hex digits;
// SecretKeyPath undoes it for the volume's items.
func secretKey(rel string) string {
	var b strings.Builder
	for i := 0; i < len(rel); i++ {
		c := rel[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteByte(c)
		default:
			b.WriteString("_" + hex.EncodeToString([]byte{c}))
		}
	}
	return b.String()
}

// SecretKeyPath is the inverse of secretKey: the relative path a data key
// of a rendered crypto Secret stands for.
func SecretKeyPath(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		if key[i] == '_' && i+2 < len(key) {
			if v, err := hex.DecodeString(key[i+1 : i+3]); err == nil {
				b.Write(v)
				i += 2
				continue
			}
		}
		b.WriteByte(key[i])
	}
	return b.String()
}

// cryptoSecret builds a Secret from files (pod-relative path -> Material
// key) in a fixed order.
func (r *renderer) cryptoSecret(name, ns, org string, kind v1alpha1.NodeKind, node string, files map[string]string) *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: r.meta(name, ns, org, string(kind), node),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{},
	}
	for rel, key := range files {
		s.Data[secretKey(rel)] = r.m.Files[key]
	}
	if r.secrets == nil {
		r.secrets = map[string]*corev1.Secret{}
	}
	r.secrets[ns+"/"+name] = s
	return s
}

// nodeCryptoName is the Secret holding a node's keys and certificates.
func nodeCryptoName(nd *node) string { return nd.name + "-crypto" }

// nodeSecret holds a node's msp/ and tls/ folders and the other files its
// config names (pf.extra).
func (r *renderer) nodeSecret(nd *node, pf *podFiles) *corev1.Secret {
	dir := r.t.nodeDir(nd)
	files := map[string]string{}
	for _, rel := range r.m.files(dir) {
		files[rel] = dir + "/" + rel
	}
	for key, rel := range pf.extra {
		files[rel] = key
	}
	return r.cryptoSecret(nodeCryptoName(nd), nd.namespace, nd.orgName, nd.kind, nd.name, files)
}

// caSecret holds the org's signing CA (certificate and key).
func (r *renderer) caSecret(nd *node) *corev1.Secret {
	dir := r.t.orgDir(nd.orgName) + "/ca"
	files := map[string]string{}
	for _, rel := range r.m.files(dir) {
		files["ca/"+rel] = dir + "/" + rel
	}
	return r.cryptoSecret(nodeCryptoName(nd), nd.namespace, nd.orgName, nd.kind, nd.name, files)
}

// userSecrets gives each user of an org (Admin, User1, ...) a Secret
// "<user>-crypto" with its msp/ and tls/ folders: the operator acts as the
// admins, applications as the users.
func (r *renderer) userSecrets(ns, org string) []Object {
	prefix := r.t.orgDir(org) + "/users"
	byUser := map[string]map[string]string{}
	for _, rel := range r.m.files(prefix) {
		user, rest, ok := strings.Cut(rel, "/")
		if !ok {
			continue
		}
		if byUser[user] == nil {
			byUser[user] = map[string]string{}
		}
		byUser[user][rest] = prefix + "/" + rel
	}
	var users []string
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users)
	var out []Object
	for _, u := range users {
		name, _, _ := strings.Cut(u, "@")
		s := r.cryptoSecret(dnsLabel(name, "crypto"), ns, org, "", "", byUser[u])
		s.Labels["weft.dev/user"] = dnsLabel(name)
		out = append(out, s)
	}
	return out
}

// GenesisSecretName is the Secret in the orderer namespace holding
// "<channel>.block" for every channel: what the operator hands the orderers'
// participation API.
const GenesisSecretName = "channel-genesis"

func (r *renderer) genesisSecret() *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: r.meta(GenesisSecretName, r.t.ordererNS, r.t.net.Orderer.Org, "", ""),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{},
	}
	for _, ch := range r.t.net.Channels {
		s.Data[ch.Name+".block"] = r.m.Blocks[ch.Name]
	}
	return s
}

// secretVolume mounts a Secret with each flattened key at its path, read
// only for the pod's group.
func secretVolume(name string, s *corev1.Secret) corev1.Volume {
	var keys []string
	for k := range s.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var items []corev1.KeyToPath
	for _, k := range keys {
		items = append(items, corev1.KeyToPath{Key: k, Path: path.Clean(SecretKeyPath(k))})
	}
	mode := int32(0o440)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: s.Name, Items: items, DefaultMode: &mode,
	}}}
}

func (r *renderer) configMap(nd *node, file string, data []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: r.meta(nd.name+"-config", nd.namespace, nd.orgName, string(nd.kind), nd.name),
		Data:       map[string]string{file: string(data)},
	}
}

// caAdminSecret holds the CA's bootstrap registrar. The password is
// derived from the CA's private key, so it is as secret as that key, differs
// per org and stays the same from one render to the next.
func (r *renderer) caAdminSecret(nd *node) *corev1.Secret {
	key := r.m.Files[r.t.orgDir(nd.orgName)+"/ca/priv_sk"]
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("weft ca bootstrap registrar"))
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: r.meta(CAAdminSecretName, nd.namespace, nd.orgName, string(nd.kind), nd.name),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(CAAdminName),
			CAAdminPasswordKey:          []byte(hex.EncodeToString(mac.Sum(nil))[:32]),
		},
	}
}
