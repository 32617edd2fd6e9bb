// Package operator is weft's Kubernetes operator: a controller-runtime
// manager whose NetworkReconciler runs a weft.dev/v1alpha1 Network on the
// cluster.
//
// Each reconcile, idempotently:
//
//  1. restores the network's crypto tree from its material Secrets
//     ("<name>-material[-N]" in the Network's namespace, a gzip'd tar split
//     across Secrets; keys never go into ConfigMaps), extends it to the
//     spec with render.GenerateMaterial and writes it back only if it
//     changed, so keys are stable across reconciles and operator restarts;
//  2. renders the objects (package render) and server-side applies each
//     with field manager "weft-operator", annotating it weft.dev/owner;
//  3. prunes objects with the network's labels that are no longer
//     rendered (a peer scaled away, a removed org or chaincode), never
//     PersistentVolumeClaims;
//  4. once the orderer and peer pods are ready, joins orderers (channel
//     participation API over mutual TLS as the orderer admin) and peers to
//     the channels and installs, approves and commits every chaincode as a
//     service, asking before each step so done work is skipped;
//  5. reports phase, endpoints and conditions per org (Ready), channel
//     (Joined) and chaincode (Committed), with events on failures.
//
// Deletion is held by the weft.dev/cleanup finalizer until everything the
// operator created is removed. PersistentVolumeClaims, the namespaces that
// hold them and the material Secrets stay, so ledgers survive, unless the
// Network is annotated weft.dev/delete-volumes: "true".
package operator

//go:generate go tool controller-gen rbac:roleName=weft-operator paths=. output:rbac:dir=../config/rbac
