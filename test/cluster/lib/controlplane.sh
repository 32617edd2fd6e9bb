# Sourced by cluster.sh: etcd + kube-apiserver, alone (control-plane mode) or
# as the first half of the full cluster.

# cp_ip DIR: the control plane's own loopback address. Every 127/8 address is
# local on Linux without any setup, so each DIR gets its own (derived from its
# path) and several control planes, a weft network on 127.0.0.1 and anything
# else on the usual ports never collide.
cp_ip() {
	local h
	if [ ! -f "$1/ip" ]; then
		h=$(printf %s "$1" | cksum | cut -d' ' -f1)
		echo "127.$((100 + h % 100)).$(((h / 100) % 256)).$(((h / 25600) % 250 + 2))" >"$1/ip"
	fi
	cat "$1/ip"
}

etcd_healthy() { # dir ip
	curl -sf --max-time 2 --cacert "$1/pki/ca.crt" --cert "$1/pki/etcd-client.crt" --key "$1/pki/etcd-client.key" \
		"https://$2:2379/health" | grep -q '"health":"true"'
}

apiserver_ready() { # dir ip
	curl -sf --max-time 2 --cacert "$1/pki/ca.crt" --cert "$1/pki/admin.crt" --key "$1/pki/admin.key" \
		"https://$2:6443/readyz" | grep -qx ok
}

# wait_alive DIR NAME DESC TIMEOUT CMD...: poll CMD every 0.2s, but give up at once
# (showing the log) when the process dies, e.g. because its port is taken.
wait_alive() {
	local dir=$1 name=$2 desc=$3 limit=$4 t0
	shift 4
	t0=$(now)
	until "$@" >/dev/null 2>&1; do
		if ! pid_of "$dir/run" "$name" >/dev/null; then
			tail -n 15 "$dir/logs/$name.log" >&2
			die "$name exited while starting (log: $dir/logs/$name.log)"
		fi
		if awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN{exit !(b-a > l)}'; then
			die "timed out after ${limit}s waiting for $desc (log: $dir/logs/$name.log)"
		fi
		sleep 0.2
	done
	log "ok: $desc ($(since "$t0")s)"
}

# start_etcd DIR IP [extra flags...]: one member, client traffic with mTLS,
# peer traffic (to itself only) in plain HTTP on the same private address.
start_etcd() {
	local dir=$1 ip=$2 p=$1/pki
	shift 2
	start_bg "$dir/run" "$dir/logs" etcd "$BIN/etcd" --name weft-k8s --data-dir "$dir/etcd" \
		--listen-client-urls "https://$ip:2379" --advertise-client-urls "https://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "weft-k8s=http://$ip:2380" \
		--cert-file "$p/etcd-server.crt" --key-file "$p/etcd-server.key" --trusted-ca-file "$p/ca.crt" \
		--client-cert-auth --snapshot-count 10000 --log-level warn "$@"
	wait_alive "$dir" etcd "etcd on $ip:2379" 60 etcd_healthy "$dir" "$ip"
}

# start_apiserver DIR IP [extra flags...]
start_apiserver() {
	local dir=$1 ip=$2 p=$1/pki
	shift 2
	start_bg "$dir/run" "$dir/logs" kube-apiserver "$BIN/kube-apiserver" \
		--advertise-address="$ip" --bind-address="$ip" --secure-port=6443 \
		--etcd-servers="https://$ip:2379" --etcd-cafile="$p/ca.crt" \
		--etcd-certfile="$p/etcd-client.crt" --etcd-keyfile="$p/etcd-client.key" \
		--client-ca-file="$p/ca.crt" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
		--service-cluster-ip-range="$SVC_CIDR" --authorization-mode=Node,RBAC \
		--requestheader-client-ca-file="$p/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
		--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
		--requestheader-extra-headers-prefix=X-Remote-Extra- \
		--proxy-client-cert-file="$p/front-proxy-client.crt" --proxy-client-key-file="$p/front-proxy-client.key" \
		--profiling=false "$@"
	wait_alive "$dir" kube-apiserver "kube-apiserver /readyz on $ip:6443" 120 apiserver_ready "$dir" "$ip"
}

cp_up() {
	local dir=$1 t0 ip
	t0=$(now)
	need_bins $CP_BINS
	mkdir -p "$dir/run" "$dir/logs"
	ip=$(cp_ip "$dir")
	pki "$dir" "$ip"
	# API-level tests only: fsync off keeps a busy shared disk from slowing
	# every write; the loopback address cannot be published as the
	# "kubernetes" Service endpoint, so that reconciler is off.
	start_etcd "$dir" "$ip" --unsafe-no-fsync
	start_apiserver "$dir" "$ip" --endpoint-reconciler-type=none
	log "control plane ready in $(since "$t0")s: export KUBECONFIG=$dir/admin.conf"
}

cp_down() { # dir purge
	local dir=$1
	[ -d "$dir/run" ] || { log "nothing to stop in $dir"; return 0; }
	stop_pid "$dir/run" kube-apiserver 20
	stop_pid "$dir/run" etcd 20
	if [ -n "$2" ]; then
		rm -rf "$dir/etcd" "$dir/pki" "$dir/run" "$dir/logs" "$dir/ip" "$dir/kubeconfig" "$dir/admin.conf"
		log "purged control plane state in $dir"
	fi
}
