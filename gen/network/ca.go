package network

import (
	"path/filepath"
	"strings"

	"weft/spec"
)

// CAHost is the node name of an org's CA ("ca.org1.example.com"): its
// folder under nodes/, its log and pid file.
func CAHost(o *spec.Org) string { return "ca." + o.Domain }

// CAName is the name of the org's signing CA on its CA server, as in
// Fabric's test network ("ca-org1").
func CAName(o *spec.Org) string { return "ca-" + strings.ToLower(o.Name) }

// TLSCAName is the name of the org's TLS CA on the same server.
func TLSCAName(o *spec.Org) string { return "tlsca-" + strings.ToLower(o.Name) }

// CADir is where the org's CA keeps its config, database and secrets.
func (l Layout) CADir(o *spec.Org) string { return l.NodeDir(CAHost(o)) }

// CAConfigPath is the CA server's configuration file.
func (l Layout) CAConfigPath(o *spec.Org) string {
	return filepath.Join(l.CADir(o), "ca.yaml")
}
