package runner

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"

	"weft/gen/network"
)

// configDigests hashes every node config file of the layout, by node name.
func configDigests(l network.Layout) map[string][32]byte {
	out := map[string][32]byte{}
	files, _ := filepath.Glob(filepath.Join(l.Dir, "nodes", "*", "*.yaml"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out[filepath.Base(filepath.Dir(f))] = sha256.Sum256(b)
		}
	}
	return out
}

// changedConfigs names the nodes whose existing config file now differs
// (new nodes are not "changed": they simply start).
func changedConfigs(before, after map[string][32]byte) map[string]bool {
	out := map[string]bool{}
	for name, h := range before {
		if a, ok := after[name]; ok && a != h && !strings.HasPrefix(name, ".") {
			out[name] = true
		}
	}
	return out
}
