#!/usr/bin/env bash
# cluster.sh: weft's Kubernetes v1.34.4 for the operator tests, built from
# source and run on this host with no registry and no Docker.
#
#   cluster.sh deps                        apt-get the node runtime (containerd, runc, CNI, iptables)
#   cluster.sh build                       build the binaries and images into $WEFT_K8S_CACHE
#   cluster.sh check [control-plane|full]  exit 3 (and say what to run) if something is missing
#   cluster.sh control-plane up|down [DIR] etcd + kube-apiserver only; DIR/admin.conf
#   cluster.sh up|down [DIR]               the full single-node cluster (root); DIR/admin.conf
#   cluster.sh import IMAGE.tar [DIR]      load an image tarball into the full cluster's containerd
#   cluster.sh status [DIR]                processes, RSS and pods of a full cluster
# `down --purge` also deletes DIR's state. Everything is idempotent.
#
# Environment: WEFT_K8S_CACHE (default /var/cache/weft-k8s), WEFT_K8S_BUILD_P (go build -p, default 2).
# Layout and the reasons behind each host workaround: README.md next to this file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${WEFT_K8S_CACHE:-/var/cache/weft-k8s}
BIN=$CACHE/bin
IMAGES=$CACHE/images
export PATH=$BIN:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The full cluster's fixed addresses. They are picked away from 127.0.0.1
# (where a weft network listens), from the k8s-lab's 10.200/10.244/10.96, and
# from Docker's and Kubernetes' usual defaults.
NODE_IP=10.201.0.1
NODE_NAME=weft-k8s-node
BRIDGE=weft-br0
CLUSTER_CIDR=10.245.0.0/16
NODE_POD_CIDR=10.245.0.0/24
SVC_CIDR=10.97.0.0/16
KUBE_SVC_IP=10.97.0.1
DNS_IP=10.97.0.10
# Host-wide record of the running full cluster: kubelet and containerd use
# fixed host paths, so only one full cluster can run per host.
CLUSTER_RECORD=/run/weft-k8s-cluster.dir

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
die() {
	echo "cluster.sh: $*" >&2
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# A recorded PID counts only while it is alive and still runs the expected
# binary, so a reused PID is never signalled.
pid_of() { # rundir name
	local f=$1/$2.pid p
	[ -f "$f" ] || return 1
	p=$(cat "$f")
	kill -0 "$p" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "/$2 " || return 1
	echo "$p"
}

start_bg() { # rundir logdir name cmd...
	local run=$1 logs=$2 name=$3 p
	shift 3
	if p=$(pid_of "$run" "$name"); then
		log "$name already running (pid $p)"
		return 0
	fi
	echo "=== $(date -u +%FT%TZ) $*" >>"$logs/$name.log"
	setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
	p=$!
	echo $p >"$run/$name.pid"
	# Until the forked shell has exec'd the binary, pid_of would call the
	# process dead; wait for the exec so callers can rely on pid_of.
	local i=0
	while ! pid_of "$run" "$name" >/dev/null && kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	log "started $name (pid $p)"
}

# put FILE: write stdin to FILE only if it differs, because kube-proxy exits
# whenever its config file is written, even with the same content.
put() {
	local t
	t=$(mktemp)
	cat >"$t"
	if cmp -s "$t" "$1"; then
		rm -f "$t"
	else
		chmod 644 "$t"
		mv "$t" "$1"
	fi
}

stop_pid() { # rundir name [timeout_s]
	local run=$1 name=$2 limit=${3:-20} p i=0
	if ! p=$(pid_of "$run" "$name"); then
		rm -f "$run/$name.pid"
		return 0
	fi
	kill -TERM "$p"
	while kill -0 "$p" 2>/dev/null && [ $i -lt $((limit * 5)) ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 "$p" 2>/dev/null; then
		log "$name (pid $p) ignored TERM for ${limit}s, sending KILL"
		kill -KILL "$p" 2>/dev/null || true
	fi
	rm -f "$run/$name.pid"
	log "stopped $name (pid $p)"
}

# need_bins NAME...: fail naming the command that builds what is missing.
need_bins() {
	local missing="" b
	for b in "$@"; do [ -x "$BIN/$b" ] || missing="$missing $b"; done
	[ -z "$missing" ] || die "missing in $BIN:$missing; build them with: $HERE/cluster.sh build"
}

# shellcheck source=lib/build.sh
. "$HERE/lib/build.sh"
# shellcheck source=lib/pki.sh
. "$HERE/lib/pki.sh"
# shellcheck source=lib/controlplane.sh
. "$HERE/lib/controlplane.sh"
# shellcheck source=lib/node.sh
. "$HERE/lib/node.sh"
# shellcheck source=lib/addons.sh
. "$HERE/lib/addons.sh"
# shellcheck source=lib/teardown.sh
. "$HERE/lib/teardown.sh"

usage() {
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# abs DIR: an absolute path, because DIR ends up in configs and pid checks.
abs() { realpath -m -- "$1"; }

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	deps) deps ;;
	build) build ;;
	check) check "${1:-control-plane}" ;;
	control-plane)
		local sub=${1:-} dir
		[ $# -gt 0 ] && shift
		local purge=""
		[ "${1:-}" = --purge ] && { purge=1; shift; }
		dir=$(abs "${1:-/tmp/weft-k8s-cp}")
		case $sub in
		up) cp_up "$dir" ;;
		down) cp_down "$dir" "$purge" ;;
		*) usage ;;
		esac
		;;
	up) full_up "$(abs "${1:-/tmp/weft-k8s}")" ;;
	down)
		local purge=""
		[ "${1:-}" = --purge ] && { purge=1; shift; }
		full_down "$(abs "${1:-/tmp/weft-k8s}")" "$purge"
		;;
	import)
		[ $# -ge 1 ] || usage
		import_image "$1" "$(abs "${2:-/tmp/weft-k8s}")"
		;;
	status) full_status "$(abs "${1:-/tmp/weft-k8s}")" ;;
	*) usage ;;
	esac
}

main "$@"
