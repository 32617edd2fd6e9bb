# Sourced by cluster.sh: deps, build, check.

# Debian packages of the node runtime. containerd is never started by apt
# here (no systemd); cluster.sh runs its own instance.
NODE_PKGS="containerd runc containernetworking-plugins iptables nftables conntrack socat ethtool kmod openssl curl"

missing_pkgs() {
	local p miss=""
	for p in $NODE_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || miss="$miss $p"; done
	echo "$miss"
}

deps() {
	[ "$(id -u)" = 0 ] || die "deps: needs root (apt-get install)"
	local miss
	miss=$(missing_pkgs)
	if [ -z "$miss" ]; then
		log "deps: all present"
		return 0
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss
}

modver() { awk -v m="$2" '$1==m {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$HERE/$1/go.mod"; }

# The binaries: name, module dir under test/cluster, package, extra env.
BINARIES="
kube-apiserver k8s k8s.io/kubernetes/cmd/kube-apiserver -
kube-controller-manager k8s k8s.io/kubernetes/cmd/kube-controller-manager -
kube-scheduler k8s k8s.io/kubernetes/cmd/kube-scheduler -
kube-proxy k8s k8s.io/kubernetes/cmd/kube-proxy -
kubelet k8s k8s.io/kubernetes/cmd/kubelet -
kubectl k8s k8s.io/kubernetes/cmd/kubectl -
etcd k8s go.etcd.io/etcd/server/v3 -
etcdctl k8s go.etcd.io/etcd/etcdctl/v3 -
weft-cri k8s ./cmd/weft-cri -
pause k8s ./cmd/pause CGO_ENABLED=0
localpath k8s ./cmd/localpath CGO_ENABLED=0
coredns coredns . CGO_ENABLED=0
helm helm helm.sh/helm/v3/cmd/helm CGO_ENABLED=0
"
CP_BINS="etcd kube-apiserver kubectl"
FULL_BINS="etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl weft-cri"
IMAGE_NAMES="pause localpath coredns"

ldflags_for() { # module
	local f="-s -w" k8s p
	case $1 in
	k8s)
		k8s=$(modver k8s k8s.io/kubernetes)
		# Without these the binaries report v0.0.0-master, and kubectl and
		# kubelet would warn about version skew against the apiserver.
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			f="$f -X $p.gitVersion=$k8s -X $p.gitMajor=$(echo "$k8s" | cut -d. -f1 | tr -d v)"
			f="$f -X $p.gitMinor=$(echo "$k8s" | cut -d. -f2) -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
		done
		;;
	helm) f="$f -X helm.sh/helm/v3/internal/version.version=$(modver helm helm.sh/helm/v3)" ;;
	esac
	echo "$f"
}

# stamp_key NAME MODULE PKG ENV: changes whenever the output could change.
stamp_key() {
	local dir=$HERE/$2
	{
		echo "$1 $3 $4 $GOVERSION_NOW"
		ldflags_for "$2"
		cat "$dir/go.mod" "$dir/go.sum"
		case $3 in . | ./*) cat "$dir/${3#./}"/*.go ;; esac
	} | sha256sum | cut -c1-64
}

stamp_get() { awk -v n="$1" '$1==n {print $2}' "$CACHE/stamp" 2>/dev/null; }
stamp_set() {
	touch "$CACHE/stamp"
	{
		grep -v "^$1 " "$CACHE/stamp" || true
		echo "$1 $2"
	} >"$CACHE/stamp.tmp"
	mv "$CACHE/stamp.tmp" "$CACHE/stamp"
}

# verify_k8s_module refuses a k8s module whose dependency versions differ from
# what k8s.io/kubernetes itself requires: MVS raising one of them would build
# every binary against libraries Kubernetes was never tested with.
verify_k8s_module() {
	local key kmod drift
	key=$(cat "$HERE/k8s/go.mod" "$HERE/k8s/go.sum" | sha256sum | cut -c1-64)
	[ "$(stamp_get verify-k8s)" = "$key" ] && return 0
	kmod=$(cd "$HERE/k8s" && go mod download -json "k8s.io/kubernetes@$(modver k8s k8s.io/kubernetes)" |
		sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	[ -f "$kmod" ] || die "build: cannot find the go.mod of k8s.io/kubernetes"
	drift=$(join <(awk '$1 ~ /\./ && $2 ~ /^v[0-9]/ {print $1, $2}' "$kmod" | sort -u) \
		<(cd "$HERE/k8s" && go list -m -f '{{.Path}} {{.Version}}' all | sort -u) | awk '$2!=$3 && $2!="v0.0.0"')
	[ -z "$drift" ] || die "build: test/cluster/k8s/go.mod drifted from k8s.io/kubernetes (module wanted got):
$drift"
	stamp_set verify-k8s "$key"
}

build() {
	mkdir -p "$BIN" "$IMAGES" 2>/dev/null || die "build: cannot create $CACHE (set WEFT_K8S_CACHE to a writable directory)"
	command -v go >/dev/null || die "build: no go toolchain in PATH"
	exec 9>"$CACHE/.lock"
	flock 9
	GOVERSION_NOW=$(go env GOVERSION)
	local t0 total n=0 i=0 name mod pkg env key t1 envs
	t0=$(now)
	total=$(echo "$BINARIES" | grep -c .)
	verify_k8s_module
	while read -r name mod pkg env; do
		[ -n "$name" ] || continue
		i=$((i + 1))
		key=$(stamp_key "$name" "$mod" "$pkg" "$env")
		if [ -x "$BIN/$name" ] && [ "$(stamp_get "$name")" = "$key" ]; then
			log "[$i/$total] $name: up to date"
			continue
		fi
		t1=$(now)
		envs=()
		[ "$env" = - ] || envs=("$env")
		(cd "$HERE/$mod" && env "${envs[@]}" nice -n 19 go build -p "${WEFT_K8S_BUILD_P:-2}" \
			-ldflags "$(ldflags_for "$mod")" -o "$BIN/$name.tmp" "$pkg")
		mv "$BIN/$name.tmp" "$BIN/$name"
		stamp_set "$name" "$key"
		n=$((n + 1))
		log "[$i/$total] $name: built in $(since "$t1")s"
	done <<<"$BINARIES"
	for name in $IMAGE_NAMES; do build_image "$name"; done
	log "build: $n of $total binaries rebuilt in $(since "$t0")s; binaries in $BIN, images in $IMAGES"
}

# build_image NAME: a one-layer docker-archive tarball holding $BIN/NAME as
# its entrypoint, which `ctr images import` loads without registry or daemon.
build_image() {
	local name=$1 key t layer diff cfg
	key=$(sha256sum <"$BIN/$name" | cut -c1-64)
	if [ -f "$IMAGES/$name.tar" ] && [ "$(stamp_get "image-$name")" = "$key" ]; then
		log "image $(image_ref "$name"): up to date"
		return 0
	fi
	t=$(mktemp -d)
	mkdir -p "$t/root/etc" "$t/root/tmp"
	chmod 1777 "$t/root/tmp"
	cp "$BIN/$name" "$t/root/$name"
	printf 'root:x:0:0:root:/:/%s\nnobody:x:65534:65534:nobody:/:/%s\n' "$name" "$name" >"$t/root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$t/root/etc/group"
	tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$t/root" -cf "$t/layer.tar" .
	diff=$(sha256sum <"$t/layer.tar" | cut -c1-64)
	mkdir "$t/$diff"
	mv "$t/layer.tar" "$t/$diff/layer.tar"
	printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":["/%s"],"Env":["PATH=/"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$(go env GOARCH)" "$name" "$diff" >"$t/config.json"
	cfg=$(sha256sum <"$t/config.json" | cut -c1-64)
	mv "$t/config.json" "$t/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$(image_ref "$name")" "$diff" >"$t/manifest.json"
	tar --numeric-owner --owner=0 --group=0 -C "$t" -cf "$IMAGES/$name.tar.tmp" manifest.json "$cfg.json" "$diff"
	mv "$IMAGES/$name.tar.tmp" "$IMAGES/$name.tar"
	rm -rf "$t"
	stamp_set "image-$name" "$key"
	log "image $(image_ref "$name") -> $IMAGES/$name.tar"
}

image_ref() { echo "weft.local/$1:v1"; }

# check WHAT: the Go test helpers call this to tell "not built" apart from
# "broken"; exit 3 means something is missing and says how to get it.
check() {
	local bins missing="" b hint=""
	case $1 in
	control-plane) bins=$CP_BINS ;;
	full) bins=$FULL_BINS ;;
	*) die "check: want control-plane or full, got \"$1\"" ;;
	esac
	for b in $bins; do [ -x "$BIN/$b" ] || missing="$missing $b"; done
	[ -z "$missing" ] || hint="$hint
  binaries missing in $BIN:$missing -> run: $HERE/cluster.sh build"
	if [ "$1" = full ]; then
		local imgs=""
		for b in $IMAGE_NAMES; do [ -f "$IMAGES/$b.tar" ] || imgs="$imgs $b"; done
		[ -z "$imgs" ] || hint="$hint
  images missing in $IMAGES:$imgs -> run: $HERE/cluster.sh build"
		[ "$(id -u)" = 0 ] || hint="$hint
  the full cluster needs root (kubelet, containerd, iptables)"
		b=$(missing_pkgs)
		[ -z "$b" ] || hint="$hint
  Debian packages missing:$b -> run: $HERE/cluster.sh deps"
	fi
	if [ -n "$hint" ]; then
		echo "weft k8s $1 is not ready:$hint" >&2
		exit 3
	fi
	echo "weft k8s $1: ready to start (cache $CACHE)"
}
