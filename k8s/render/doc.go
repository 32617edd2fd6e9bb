// Package render turns a Network resource and its crypto material into the
// Kubernetes objects that run it: the manifests `weft render k8s` prints and
// the desired state the operator reconciles. Rendering is a pure function of
// its inputs, so the same Network and Material give byte-identical output.
//
// Layout on the cluster:
//
//   - one Namespace per peer organization and one for the orderer
//     organization, named <network>-<org> (lower case);
//   - each CA, orderer and peer is its own StatefulSet of one replica,
//     named after the node (ca, orderer0, peer1), with a volume claim
//     template so a rescheduled pod keeps its ledger. One StatefulSet per
//     node rather than one per peer set because every peer has its own
//     identity: a pod template cannot give replica N its own key without
//     handing every replica all keys. Scaling an org to N peers therefore
//     adds or removes whole nodes (Secret, ConfigMap, Service, StatefulSet),
//     which is what a change of orgs[].peers renders to;
//   - each node has a ClusterIP Service of its own name, so its in-cluster
//     address is <node>.<namespace>.svc.cluster.local; a headless Service
//     per kind governs the StatefulSets; exposure adds <node>-external
//     Services or an Ingress for the peer gateway and orderer ports;
//   - keys and certificates only in Secrets, node configuration files in
//     ConfigMaps, every chaincode as a Deployment and Service per org.
package render
