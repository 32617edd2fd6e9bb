# weft's developer entry points. `make test` is the one test command (README
# and .ci/run call it); it installs the npm clients the conformance tests use.

GO ?= go
FUZZTIME ?= 10s

.PHONY: test unit fuzz node-deps k8s-prereqs generate generate-k8s check-generated build

build:
	$(GO) build -o weft ./cmd/weft

test: node-deps k8s-prereqs unit fuzz

# Package tests run in parallel; the process-level tests under ./test start
# whole networks, so they run one package at a time to keep timing sane on
# small machines.
# The CA tests also run against PostgreSQL: scripts/postgres-test.sh starts
# (or reuses) a throwaway local server and prints its DSN.
unit:
	$(GO) vet ./...
	out=$$(bash scripts/postgres-test.sh) || { echo "could not start PostgreSQL for the tests"; exit 1; }; \
	export WEFT_TEST_POSTGRES_DSN="$$(echo "$$out" | tail -n1)" && \
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '^weft/test/') && \
	$(GO) test -count=1 -p 1 ./test/...

# Each fuzz target runs for FUZZTIME on top of its seed corpus.
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# Kubernetes v1.34 built from the Go module proxy for the operator tests
# (test/cluster): the node runtime from apt (containerd, runc, CNI; needs
# root, skipped when present) and the binaries, cached in
# $WEFT_K8S_CACHE (default /var/cache/weft-k8s) so only the first run on a
# machine compiles them (~10 min on 2 idle cores).
k8s-prereqs:
	bash test/cluster/cluster.sh deps
	bash test/cluster/cluster.sh build

# The official Fabric npm clients, pinned by conformance/node/package-lock.json.
node-deps: conformance/node/node_modules/.weft-installed

conformance/node/node_modules/.weft-installed: conformance/node/package-lock.json
	npm ci --prefix conformance/node --no-audit --no-fund
	touch $@

generate: generate-k8s
	$(GO) generate ./wire

# Deepcopy code and the CRD YAML (k8s/crd) from the k8s/api types, the
# operator's RBAC (k8s/config/rbac) from its kubebuilder markers, and the
# Helm chart's copies of both.
HELM_CHART = deploy/helm/weft-operator
generate-k8s:
	$(GO) generate ./k8s/...
	mkdir -p $(HELM_CHART)/crds $(HELM_CHART)/files
	cp k8s/crd/*.yaml $(HELM_CHART)/crds/
	cp k8s/config/rbac/role.yaml $(HELM_CHART)/files/role.yaml

# Fails when the committed generated code differs from a fresh generation.
check-generated: generate
	@git diff --exit-code --stat -- wire || { echo "generated code in wire/ is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- wire)" || { git status --porcelain -- wire; echo "wire/ has uncommitted generated files"; exit 1; }
	@git diff --exit-code --stat -- k8s $(HELM_CHART) || { echo "generated code in k8s/ or the Helm chart is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- k8s $(HELM_CHART))" || { git status --porcelain -- k8s $(HELM_CHART); echo "k8s/ or the Helm chart has uncommitted generated files"; exit 1; }
