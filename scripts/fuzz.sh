#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short budget each.
# Usage: scripts/fuzz.sh [DURATION]   (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-10s}
found=0
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    found=$((found + 1))
    echo "fuzz: $pkg $target ($budget)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" -fuzzminimizetime=2s "$pkg"
  done
done < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | while read -r p; do
  d=$(go list -f '{{.Dir}}' "$p"); grep -lq '^func Fuzz' "$d"/*_test.go 2>/dev/null && echo "$p"; done)
echo "fuzz: $found targets ran for $budget each"
