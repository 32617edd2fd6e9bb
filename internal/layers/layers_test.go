// Package layers holds a test that keeps weft's imports flowing one way:
// wire types and crypto at the bottom, the control plane on top. A package
// may import packages of a strictly lower rank, or packages of its own
// component (e.g. wire/peer importing wire/common).
package layers

import (
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// rank orders weft's components. Longest prefix wins. A package that
// matches no entry fails the test, so new packages must be placed here.
var rank = []struct {
	prefix string
	rank   int
}{
	{"weft/wire", 0},
	{"weft/internal/atomicfile", 0},
	{"weft/fabcrypto", 0},
	{"weft/msp", 1},
	{"weft/policy", 2},
	{"weft/channelconfig", 3},
	{"weft/ledger", 3},
	{"weft/comm", 3},
	{"weft/deliver", 4},
	{"weft/orderer", 5},
	{"weft/peer", 5},
	{"weft/node", 6},
	{"weft/ca", 5},
	{"weft/ca/store", 3},
	{"weft/image", 8},
	{"weft/k8s/api", 8},
	{"weft/k8s", 11},
	{"weft/spec", 7},
	{"weft/gen", 8},
	{"weft/gen/network", 9},
	{"weft/bench", 10},
	{"weft/chaincode", 10},
	{"weft/client", 9},
	{"weft/runner", 10},
	{"weft/internal/cli", 12},
	{"weft/cmd", 13},
	{"weft/internal/layers", 13},
	{"weft/conformance", 13},
	{"weft/test", 13},
	{"weft/examples", 13},
}

func rankOf(pkg string) (int, string, bool) {
	best, bestRank := "", -1
	for _, r := range rank {
		if (pkg == r.prefix || strings.HasPrefix(pkg, r.prefix+"/")) && len(r.prefix) > len(best) {
			best, bestRank = r.prefix, r.rank
		}
	}
	return bestRank, best, best != ""
}

func TestImportsFlowDownward(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "weft/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		// go list -test also reports "pkg [pkg.test]" variants and
		// external test packages; judge them as the package they test.
		pkg = strings.TrimSuffix(strings.Fields(pkg)[0], "_test")
		if strings.HasSuffix(pkg, ".test") {
			continue
		}
		pr, pcomp, ok := rankOf(pkg)
		if !ok {
			problems = append(problems, pkg+": not placed in a layer (add it to rank in layers_test.go)")
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if !strings.HasPrefix(imp, "weft/") {
				continue
			}
			ir, icomp, ok := rankOf(imp)
			if !ok || icomp == pcomp {
				continue
			}
			if ir >= pr {
				problems = append(problems, pkg+" (rank "+strconv.Itoa(pr)+") imports "+imp+" (rank "+strconv.Itoa(ir)+")")
			}
		}
	}
	sort.Strings(problems)
	for _, p := range dedupe(problems) {
		t.Error(p)
	}
}

func TestRankOf(t *testing.T) {
	cases := []struct {
		pkg  string
		want int
		ok   bool
	}{
		{"weft/wire/peer", 0, true},
		{"weft/policy", 2, true},
		{"weft/policyx", 0, false},
		{"weft/gen/cryptogen", 8, true},
		{"weft/nosuch", 0, false},
	}
	for _, c := range cases {
		got, _, ok := rankOf(c.pkg)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("rankOf(%q) = %d,%v; want %d,%v", c.pkg, got, ok, c.want, c.ok)
		}
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
