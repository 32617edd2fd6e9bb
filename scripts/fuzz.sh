#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short budget each.
# Usage: scripts/fuzz.sh [DURATION]   (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-10s}
found=0
count() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    found=$((found + 1))
    echo "fuzz: $pkg $target ($budget)"
    corpus="$dir/testdata/fuzz/$target"
    before=$(count "$corpus")
    if ! out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" -fuzzminimizetime=2s "$pkg" 2>&1); then
      echo "$out"
      after=$(count "$corpus")
      # Go's fuzz coordinator sometimes reports "context deadline exceeded"
      # when the time budget ends mid-minimization; that saves no failing
      # input. Retry once then; a real finding (a new file under
      # testdata/fuzz) fails at once.
      if [ "$before" = "$after" ] && grep -q "context deadline exceeded" <<<"$out"; then
        echo "fuzz: $target: coordinator deadline without a failing input; running once more"
        go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" -fuzzminimizetime=2s "$pkg"
      else
        exit 1
      fi
    else
      echo "$out" | tail -3
    fi
  done
done < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | while read -r p; do
  d=$(go list -f '{{.Dir}}' "$p"); grep -lq '^func Fuzz' "$d"/*_test.go 2>/dev/null && echo "$p"; done)
echo "fuzz: $found targets ran for $budget each"
