# Sourced by cluster.sh: the cluster PKI and kubeconfigs, made with openssl.
# P-256 keys instead of RSA: every component accepts them and a whole PKI is
# made in well under a second. Certificates are valid for ten years and never
# rotated; a test cluster does not live that long.

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }

mkca() { # pkidir name cn
	local d=$1 n=$2
	[ -f "$d/$n.crt" ] && return 0
	newkey "$d/$n.key"
	openssl req -x509 -new -key "$d/$n.key" -days 3650 -subj "/CN=$3" -out "$d/$n.crt" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
}

mkcert() { # pkidir ca name cn org san eku
	local d=$1 ca=$2 n=$3 cn=$4 org=$5 san=$6 eku=$7 subj
	[ -f "$d/$n.crt" ] && return 0
	subj="/CN=$cn"
	[ -z "$org" ] || subj="/O=$org/CN=$cn"
	newkey "$d/$n.key"
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$eku"
		[ -z "$san" ] || echo "subjectAltName=$san"
	} >"$d/$n.ext"
	openssl req -new -key "$d/$n.key" -subj "$subj" -out "$d/$n.csr"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
		-days 3650 -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
	rm -f "$d/$n.csr" "$d/$n.ext"
}

# pki DIR IP: every certificate either mode needs, bound to the apiserver IP.
# Existing files are kept, so a restart keeps its identities.
pki() {
	local dir=$1 ip=$2 d=$1/pki s=serverAuth c=clientAuth
	mkdir -p "$d"
	mkca "$d" ca weft-k8s-ca
	mkcert "$d" ca etcd-server etcd "" "IP:$ip,IP:127.0.0.1,DNS:localhost" "$s,$c"
	mkcert "$d" ca etcd-client kube-apiserver-etcd-client "" "" $c
	mkcert "$d" ca apiserver kube-apiserver "" \
		"DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE_NAME,IP:$ip,IP:127.0.0.1,IP:$KUBE_SVC_IP" $s
	mkcert "$d" ca admin weft-k8s-admin system:masters "" $c
	mkcert "$d" ca apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "" $c
	mkcert "$d" ca controller-manager system:kube-controller-manager "" "" $c
	mkcert "$d" ca scheduler system:kube-scheduler "" "" $c
	mkcert "$d" ca kube-proxy system:kube-proxy "" "" $c
	mkcert "$d" ca kubelet-client "system:node:$NODE_NAME" system:nodes "" $c
	mkcert "$d" ca kubelet-server "$NODE_NAME" "" "DNS:$NODE_NAME,DNS:localhost,IP:$ip" $s
	# The aggregation layer authenticates the apiserver with a separate CA.
	mkca "$d" front-proxy-ca weft-k8s-front-proxy-ca
	mkcert "$d" front-proxy-ca front-proxy-client front-proxy-client "" "" $c
	[ -f "$d/sa.key" ] || { newkey "$d/sa.key" && openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub"; }
	local k
	for k in admin controller-manager scheduler kube-proxy kubelet-client; do
		kubeconfig "$dir" "$ip" "$k"
	done
	cp "$dir/kubeconfig/admin.conf" "$dir/admin.conf.tmp" && mv "$dir/admin.conf.tmp" "$dir/admin.conf"
}

# kubeconfig DIR IP CERT: DIR/kubeconfig/CERT.conf with the certificate embedded, so
# the file alone is enough for a client (mode 0600: it holds the key).
kubeconfig() {
	local dir=$1 ip=$2 n=$3 f=$1/kubeconfig/$3.conf
	mkdir -p "$dir/kubeconfig"
	[ -f "$f" ] && grep -q "server: https://$ip:6443$" "$f" && return 0
	umask 077
	cat >"$f.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: weft-k8s
  cluster:
    server: https://$ip:6443
    certificate-authority-data: $(base64 -w0 "$dir/pki/ca.crt")
users:
- name: $n
  user:
    client-certificate-data: $(base64 -w0 "$dir/pki/$n.crt")
    client-key-data: $(base64 -w0 "$dir/pki/$n.key")
contexts:
- name: weft-k8s
  context: {cluster: weft-k8s, user: $n}
current-context: weft-k8s
EOF
	umask 022
	mv "$f.tmp" "$f"
}
