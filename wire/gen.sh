#!/usr/bin/env bash
# Regenerates the Go code for every .proto under wire/proto.
# Run from anywhere: `go generate ./wire` (or `bash wire/gen.sh`).
# Needs protoc on PATH (Debian: protobuf-compiler); the Go plugins are
# pinned as tools in go.mod, so everyone produces identical output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
gen_go=$(go tool -n protoc-gen-go)
gen_grpc=$(go tool -n protoc-gen-go-grpc)
mapfile -t files < <(cd wire/proto && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
if [ ${#files[@]} -eq 0 ]; then echo "no .proto files" >&2; exit 1; fi
# Remove old output so a deleted .proto leaves nothing behind.
find wire -name '*.pb.go' -delete
(cd wire/proto && protoc -I . \
  --plugin=protoc-gen-go="$gen_go" --plugin=protoc-gen-go-grpc="$gen_grpc" \
  --go_out="$root" --go_opt=module=weft \
  --go-grpc_out="$root" --go-grpc_opt=module=weft \
  "${files[@]}")
