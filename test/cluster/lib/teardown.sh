# Sourced by cluster.sh: `down` for the full cluster. It stops what `up`
# started (by recorded PID only) and undoes every host change `up` made;
# build outputs and logs stay. The order matters: sandboxes are removed
# through CRI while containerd still runs, so CNI DEL frees veths and IPs.

full_down() { # dir purge
	local dir=$1 run=$1/run t0 p n sock
	t0=$(now)
	[ "$(id -u)" = 0 ] || die "down: the full cluster needs root"
	[ -d "$run" ] || { log "nothing to stop in $dir"; return 0; }
	sock=$(ctrd_sock "$dir")
	set +e
	stop_pid "$run" kubelet 30
	if pid_of "$run" containerd >/dev/null; then
		"$BIN/weft-cri" "unix://$sock" rmp-all || log "warning: some pod sandboxes could not be removed"
	fi
	stop_pid "$run" kube-proxy
	[ -f "$dir/etc/kube-proxy.yaml" ] && "$BIN/kube-proxy" --cleanup --config="$dir/etc/kube-proxy.yaml" >/dev/null 2>&1
	stop_pid "$run" containerd 30
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" || true); do
		log "stopping leftover shim $p"
		kill -TERM "$p" 2>/dev/null
	done
	for n in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_pid "$run" "$n"; done

	# Mounts under DIR (kubelet's root, projected volumes), deepest first.
	grep -F " $dir/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	for n in /run/netns/cni-*; do
		[ -e "$n" ] || continue
		grep -qx "$(basename "$n")" "$run/netns.before" 2>/dev/null && continue
		umount "$n" 2>/dev/null
		rm -f "$n" && log "removed netns $n"
	done
	iptables_cleanup "$run"
	for n in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$n"; done
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE" && log "deleted bridge $BRIDGE"
	if [ -f "$run/nodeip.added" ]; then
		ip addr del "$NODE_IP/32" dev lo && log "removed $NODE_IP from lo"
		rm -f "$run/nodeip.added"
	fi
	# kubelet's cgroups in every v1 hierarchy and the unified one.
	for n in /sys/fs/cgroup/*/kubepods; do
		[ -d "$n" ] && find "$n" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	if [ -f "$run/sysctl.orig" ]; then
		while IFS='=' read -r n p; do [ -z "$p" ] || sysctl -q -w "$n=$p" || log "could not restore $n=$p"; done <"$run/sysctl.orig"
		rm -f "$run/sysctl.orig"
		log "sysctls restored"
	fi
	host_paths_cleanup "$dir"
	[ "$(cat "$CLUSTER_RECORD" 2>/dev/null)" = "$dir" ] && rm -f "$CLUSTER_RECORD"
	set -e
	if [ -n "$2" ]; then
		rm -rf "$dir/data" "$dir/etcd" "$dir/run" "$dir/pki" "$dir/etc" "$dir/kubeconfig" "$dir/admin.conf"
		log "purged cluster state in $dir"
	fi
	log "down in $(since "$t0")s"
}

# iptables_cleanup RUN: our guard chain and whatever kube-proxy, kubelet and
# the CNI plugins left (KUBE-*, CNI-*), then the nf_tables tables that
# iptables-nft created and left empty.
iptables_cleanup() {
	local run=$1 ipt t c rule
	for ipt in iptables ip6tables; do
		for t in filter nat mangle raw; do
			$ipt-save -t $t 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-|WEFT-K8S-)' |
				while read -r _ rule; do eval "$ipt -w -t $t -D $rule"; done
			for c in $($ipt-save -t $t 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\|WEFT-K8S\)-[^ ]*\).*/\1/p'); do $ipt -w -t $t -F "$c"; done
			for c in $($ipt-save -t $t 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\|WEFT-K8S\)-[^ ]*\).*/\1/p'); do $ipt -w -t $t -X "$c"; done
		done
	done
	[ -f "$run/nft-tables.before" ] || return 0
	nft list tables | while read -r _ fam name; do
		grep -qx "table $fam $name" "$run/nft-tables.before" && continue
		if [ -z "$(nft list table "$fam" "$name" | grep -vE '^\s*(table .*\{|chain [A-Za-z0-9_-]+ \{|type .* policy accept;|\}|)$')" ]; then
			nft delete table "$fam" "$name" && log "deleted empty nft table $fam $name"
		fi
	done
	rm -f "$run/nft-tables.before"
}

host_paths_cleanup() {
	local dir=$1 run=$1/run d
	rm -f /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/kubelet/pod-resources/kubelet.sock
	find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" -delete 2>/dev/null
	rm -f /var/lib/cni/results/weft-k8s-* /var/lib/cni/results/cni-loopback-* 2>/dev/null
	for d in $HOST_PATHS; do
		[ -e "$d" ] || continue
		grep -qx "$d" "$run/preexisting" 2>/dev/null && continue
		case $d in
		/run/containerd)
			rm -rf /run/containerd/s /run/containerd/fifo /run/containerd/runc
			rmdir /run/containerd 2>/dev/null
			;;
		*) find "$d" -depth -type d -empty -delete 2>/dev/null ;;
		esac
		[ -e "$d" ] && log "left $d (not empty)"
	done
	rm -f "$run/netns.before" "$run/preexisting"
}
