// Package wire holds weft's protobuf definitions, written to be
// wire-compatible with Hyperledger Fabric v2.5/v3: the same proto package
// names, message names, field numbers, services and methods. The .proto
// sources live under wire/proto (laid out like Fabric's import paths, e.g.
// "common/common.proto"); generated Go code sits in the sub-packages
// (wire/common, wire/peer, ...).
//
// Regenerate with `go generate ./wire`; CI fails when the committed code
// is stale.
package wire

//go:generate bash gen.sh
