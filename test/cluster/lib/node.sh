# Sourced by cluster.sh: the full single-node cluster (host preparation,
# configuration, the node's daemons and image import).

# Sysctls kubelet, kube-proxy or we may change; their values are saved once
# and put back by `down`.
SYSCTLS="net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
net.ipv4.conf.all.route_localnet vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
kernel.keys.root_maxkeys kernel.keys.root_maxbytes fs.inotify.max_user_instances"
# Paths kubelet, containerd and libcni hard-code outside DIR; `down` removes
# only those that did not exist before `up`.
HOST_PATHS="/var/lib/cni /var/lib/kubelet /var/log/containers /run/netns /run/containerd"

ctrd_sock() { echo "$1/run/containerd/containerd.sock"; }
kc() { "$BIN/kubectl" --kubeconfig "$1/admin.conf" "${@:2}"; }

# claim_host DIR: one full cluster per host; a second `up` elsewhere must not
# take over the first one's kubelet paths, bridge and iptables rules.
claim_host() {
	local other
	if [ -f "$CLUSTER_RECORD" ]; then
		other=$(cat "$CLUSTER_RECORD")
		if [ "$other" != "$1" ] && { pid_of "$other/run" kubelet >/dev/null || pid_of "$other/run" kube-apiserver >/dev/null; }; then
			die "a weft k8s cluster is already running in $other; reuse it (WEFT_K8S_CLUSTER=$other) or stop it: $HERE/cluster.sh down $other"
		fi
	fi
	echo "$1" >"$CLUSTER_RECORD"
}

host_prep() {
	local dir=$1 run=$1/run s d ipt
	[ -f "$run/sysctl.orig" ] || for s in $SYSCTLS; do echo "$s=$(sysctl -n "$s" 2>/dev/null)"; done >"$run/sysctl.orig"
	[ -f "$run/nft-tables.before" ] || nft list tables >"$run/nft-tables.before"
	[ -f "$run/netns.before" ] || { ls /run/netns 2>/dev/null || true; } >"$run/netns.before"
	[ -f "$run/preexisting" ] || for d in $HOST_PATHS; do [ -e "$d" ] && echo "$d"; done >"$run/preexisting" || true
	modprobe br_netfilter 2>/dev/null || true
	sysctl -q -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 \
		net.ipv4.ip_forward=1 fs.inotify.max_user_instances=1024
	# The node IP is a /32 on lo: this kernel has no dummy netdev, and it keeps
	# every listener off eth0 and off 127.0.0.1.
	if ! ip -4 addr show dev lo | grep -q " $NODE_IP/32"; then
		ip addr add "$NODE_IP/32" dev lo
		echo "$NODE_IP" >"$run/nodeip.added"
	fi
	# ip_forward=1 is needed for pod -> Service -> pod; this chain makes sure
	# pods still reach nothing beyond their bridge (no egress) and nothing
	# outside reaches them, while other forwarding on the host is untouched.
	for ipt in iptables ip6tables; do
		$ipt -w -N WEFT-K8S-GUARD 2>/dev/null || true
		$ipt -w -F WEFT-K8S-GUARD
		$ipt -w -A WEFT-K8S-GUARD -i "$BRIDGE" -o "$BRIDGE" -j RETURN
		$ipt -w -A WEFT-K8S-GUARD -i "$BRIDGE" -m comment --comment "weft k8s: pods have no egress" -j DROP
		$ipt -w -A WEFT-K8S-GUARD -o "$BRIDGE" -m comment --comment "weft k8s: nothing forwarded to pods" -j DROP
		$ipt -w -C FORWARD -j WEFT-K8S-GUARD 2>/dev/null || $ipt -w -I FORWARD 1 -j WEFT-K8S-GUARD
	done
}

write_configs() {
	local dir=$1 etc=$1/etc p=$1/pki sock
	sock=$(ctrd_sock "$dir")
	mkdir -p "$etc/cni" "$dir/data/local-path" "$dir/data/pod-logs" "$dir/run/containerd"
	put "$etc/cni/10-weft-k8s.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "weft-k8s", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$dir/data/cni-ipam",
            "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
	put "$etc/containerd.toml" <<EOF
version = 2
root = "$dir/data/containerd"
state = "$dir/run/containerd"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/data/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(image_ref pause)"
  stream_server_address = "$NODE_IP"
  # Root here lacks CAP_SYS_RESOURCE, so runc cannot set the negative
  # oom_score_adj kubelet asks for (sandbox creation fails); clamp to ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "$dir/run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$etc/cni"
    max_conf_num = 1
EOF
	# cgroupfs + failCgroupV1=false: the host has hybrid cgroup v1 and no
	# systemd. oomScoreAdj 0 for the same reason as restrict_oom_score_adj.
	# resolvConf "" keeps the host's resolver away from pods (no egress).
	put "$etc/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: $NODE_IP
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $p/kubelet-server.crt
tlsPrivateKeyFile: $p/kubelet-server.key
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
oomScoreAdj: 0
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: ""
podLogsDir: $dir/data/pod-logs
serializeImagePulls: false
rotateCertificates: false
evictionHard: {memory.available: "200Mi", nodefs.available: "5%", imagefs.available: "5%"}
EOF
	# conntrack 0s/0: kube-proxy leaves the host's nf_conntrack sysctls alone.
	# NodePorts only on the node IP, never on 127.0.0.1 where weft listens.
	put "$etc/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $dir/kubeconfig/kube-proxy.conf}
hostnameOverride: $NODE_NAME
mode: iptables
oomScoreAdj: 0
clusterCIDR: $CLUSTER_CIDR
bindAddress: $NODE_IP
healthzBindAddress: $NODE_IP:10256
metricsBindAddress: $NODE_IP:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
	put "$etc/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: $dir/kubeconfig/scheduler.conf}
leaderElection: {leaderElect: false}
EOF
}

node_ready() {
	kc "$1" get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}

full_up() {
	local dir=$1 t0 p=$1/pki k=$1/kubeconfig miss
	t0=$(now)
	[ "$(id -u)" = 0 ] || die "up: the full cluster needs root"
	miss=$(missing_pkgs)
	[ -z "$miss" ] || die "up: Debian packages missing:$miss; install them with: $HERE/cluster.sh deps"
	need_bins $FULL_BINS
	for miss in $IMAGE_NAMES; do [ -f "$IMAGES/$miss.tar" ] || die "up: image $miss missing; run: $HERE/cluster.sh build"; done
	mkdir -p "$dir/run" "$dir/logs" "$dir/etc"
	claim_host "$dir"
	host_prep "$dir"
	write_configs "$dir"
	pki "$dir" "$NODE_IP"
	start_etcd "$dir" "$NODE_IP"
	start_apiserver "$dir" "$NODE_IP" \
		--kubelet-client-certificate="$p/apiserver-kubelet-client.crt" --kubelet-client-key="$p/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority="$p/ca.crt" --kubelet-preferred-address-types=InternalIP \
		--enable-admission-plugins=NodeRestriction --allow-privileged=true
	start_bg "$dir/run" "$dir/logs" kube-controller-manager "$BIN/kube-controller-manager" \
		--kubeconfig="$k/controller-manager.conf" --authentication-kubeconfig="$k/controller-manager.conf" \
		--authorization-kubeconfig="$k/controller-manager.conf" --bind-address="$NODE_IP" \
		--client-ca-file="$p/ca.crt" --root-ca-file="$p/ca.crt" --requestheader-client-ca-file="$p/front-proxy-ca.crt" \
		--cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
		--service-account-private-key-file="$p/sa.key" --use-service-account-credentials=true \
		--allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size=24 \
		--service-cluster-ip-range="$SVC_CIDR" --leader-elect=false --profiling=false
	start_bg "$dir/run" "$dir/logs" kube-scheduler "$BIN/kube-scheduler" --config="$dir/etc/kube-scheduler.yaml" \
		--authentication-kubeconfig="$k/scheduler.conf" --authorization-kubeconfig="$k/scheduler.conf" \
		--bind-address="$NODE_IP" --profiling=false
	start_bg "$dir/run" "$dir/logs" containerd /usr/bin/containerd --config "$dir/etc/containerd.toml"
	wait_alive "$dir" containerd containerd 60 ctr -a "$(ctrd_sock "$dir")" version
	local i
	for i in $IMAGE_NAMES; do import_if_changed "$dir" "$IMAGES/$i.tar"; done
	start_bg "$dir/run" "$dir/logs" kubelet "$BIN/kubelet" --config="$dir/etc/kubelet.yaml" \
		--kubeconfig="$k/kubelet-client.conf" --root-dir="$dir/data/kubelet" --cert-dir="$p/kubelet-certs" \
		--node-ip="$NODE_IP" --hostname-override="$NODE_NAME" --v=1
	start_bg "$dir/run" "$dir/logs" kube-proxy "$BIN/kube-proxy" --config="$dir/etc/kube-proxy.yaml"
	wait_alive "$dir" kubelet "node $NODE_NAME Ready" 180 node_ready "$dir"
	addons "$dir"
	log "cluster ready in $(since "$t0")s: export KUBECONFIG=$dir/admin.conf"
}

# import_if_changed DIR TAR: skip tarballs already imported unchanged, so a
# restart does not re-unpack every image.
import_if_changed() {
	local dir=$1 tar=$2 sum mark
	sum=$(sha256sum <"$tar" | cut -c1-64)
	mark=$dir/data/imported/$(basename "$tar").sha256
	[ "$(cat "$mark" 2>/dev/null)" = "$sum" ] && return 0
	ctr -a "$(ctrd_sock "$dir")" -n k8s.io images import "$tar" | sed 's/^/  /'
	mkdir -p "$dir/data/imported"
	echo "$sum" >"$mark"
	log "imported $tar"
}

import_image() { # tar dir
	[ -f "$1" ] || die "import: no such file: $1"
	pid_of "$2/run" containerd >/dev/null || die "import: no running cluster in $2 (start it with: $HERE/cluster.sh up $2)"
	import_if_changed "$2" "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

full_status() {
	local dir=$1 n p tot=0 rss
	printf '%-26s %8s %8s\n' COMPONENT PID RSS_MiB
	for n in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
		if p=$(pid_of "$dir/run" "$n"); then
			rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$p/status")
			tot=$((tot + rss))
			printf '%-26s %8s %8s\n' "$n" "$p" "$rss"
		else
			printf '%-26s %8s\n' "$n" down
		fi
	done
	rss=0
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $(ctrd_sock "$dir")" || true); do
		rss=$((rss + $(awk '/VmRSS/{print int($2/1024)}' "/proc/$p/status")))
	done
	echo "daemons total ${tot} MiB RSS; containerd shims ${rss} MiB"
	pid_of "$dir/run" kube-apiserver >/dev/null && kc "$dir" get pods -A -o wide
	return 0
}
