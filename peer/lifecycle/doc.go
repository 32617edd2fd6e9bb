// Package lifecycle is weft's `_lifecycle` system chaincode: the package
// store of a peer (InstallChaincode and the installed-package queries) and
// the per-channel chaincode definition process (approve, check readiness,
// commit, query), called with the same arguments and returning the same
// result messages as Fabric v2.5/v3, so `peer lifecycle` style clients and
// the fabric-protos message types work unchanged.
//
// State layout, in namespace "_lifecycle" of each channel:
//
//	definitions/<name>                   lifecycle.QueryChaincodeDefinitionsResult_ChaincodeDefinition
//	approvals/<name>/<sequence>/<MSPID>  lifecycle.ApproveChaincodeDefinitionForMyOrgArgs (defaults filled in)
//
// Fabric keeps approvals in each org's implicit private-data collection so
// that only hashes are shared. weft has no private data yet, so approvals are
// public state; every member of the channel can read which package an org
// approved. The layout is weft's own: a weft peer cannot share a ledger with
// a Fabric peer, only clients are interoperable.
//
// Endorsement rules for the validator (PolicyChecker) mirror Fabric's: a
// write of an org's approval needs an endorsement by that org's peers (the
// implicit collection endorsement policy), a definition write needs
// /Channel/Application/LifecycleEndorsement, and a user chaincode's writes
// need the policy of its committed definition.
package lifecycle
