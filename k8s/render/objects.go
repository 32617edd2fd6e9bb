package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// Options tune rendering; the zero value means the defaults.
type Options struct {
	// OperatorNamespace is where the weft operator runs (default
	// "weft-system"); NetworkPolicies admit its pods to the admin ports.
	OperatorNamespace string
}

// DefaultOperatorNamespace is the namespace the operator is installed in
// unless told otherwise.
const DefaultOperatorNamespace = "weft-system"

// OperatorLabel selects the operator's pods.
var OperatorLabel = map[string]string{LabelName: "weft-operator"}

// Objects renders every object a Network needs with default Options.
func Objects(res *v1alpha1.Network, m *Material) ([]Object, error) {
	return ObjectsWith(res, m, Options{})
}

// ObjectsWith renders every object a Network needs: namespaces first, then
// per namespace its Secrets, ConfigMaps, Services, workloads, Ingress and
// NetworkPolicies, in a fixed order. The resource is validated first;
// errors name the offending field. Nothing is modified.
func ObjectsWith(res *v1alpha1.Network, m *Material, opts Options) ([]Object, error) {
	if opts.OperatorNamespace == "" {
		opts.OperatorNamespace = DefaultOperatorNamespace
	}
	t, err := newTopology(res)
	if err != nil {
		return nil, err
	}
	if err := t.checkMaterial(m); err != nil {
		return nil, err
	}
	r := &renderer{t: t, m: m, opts: opts}
	return r.all()
}

type renderer struct {
	t    *topology
	m    *Material
	opts Options
	out  []Object
	// secrets are the Secrets built so far, by namespace/name, for the
	// workloads that mount them.
	secrets map[string]*corev1.Secret
}

func (r *renderer) add(objs ...Object) { r.out = append(r.out, objs...) }

func (r *renderer) all() ([]Object, error) {
	t := r.t
	r.add(r.namespace(t.ordererNS, t.net.Orderer.Org))
	for _, o := range t.net.Orgs {
		r.add(r.namespace(t.orgNamespace(o.Name), o.Name))
	}
	if err := r.ordererOrg(); err != nil {
		return nil, err
	}
	for k := range t.net.Orgs {
		if err := r.peerOrg(k); err != nil {
			return nil, err
		}
	}
	return r.out, nil
}

func (r *renderer) ordererOrg() error {
	t := r.t
	ns, org := t.ordererNS, t.net.Orderer.Org
	r.add(r.userSecrets(ns, org)...)
	r.add(r.genesisSecret())
	for i := range t.orderers {
		nd := &t.orderers[i]
		cfg, pf, err := t.ordererConfig(nd)
		if err != nil {
			return err
		}
		r.add(r.nodeSecret(nd, pf), r.configMap(nd, "orderer.yaml", cfg))
	}
	r.add(r.headless(ns, org, v1alpha1.KindOrderer))
	for i := range t.orderers {
		r.add(r.nodeServices(&t.orderers[i])...)
	}
	for i := range t.orderers {
		r.add(r.statefulSet(&t.orderers[i], "orderer.yaml"))
	}
	r.add(r.ingress(ns, org, t.orderers)...)
	r.add(r.ordererPolicies()...)
	return nil
}

func (r *renderer) peerOrg(k int) error {
	t := r.t
	o := &t.net.Orgs[k]
	ns := t.orgNamespace(o.Name)
	peers := t.orgPeers(o.Name)
	r.add(r.userSecrets(ns, o.Name)...)
	prof, err := r.profileSecret(o)
	if err != nil {
		return err
	}
	r.add(prof)
	var cas []*node
	for i := range t.cas {
		if t.cas[i].orgName == o.Name {
			cas = append(cas, &t.cas[i])
		}
	}
	for _, ca := range cas {
		cfg, err := t.caConfig(ca)
		if err != nil {
			return err
		}
		r.add(r.caSecret(ca), r.caAdminSecret(ca), r.configMap(ca, "ca.yaml", cfg))
	}
	for i := range peers {
		cfg, pf, err := t.peerConfig(&peers[i])
		if err != nil {
			return err
		}
		r.add(r.nodeSecret(&peers[i], pf), r.configMap(&peers[i], "core.yaml", cfg))
	}
	if len(cas) > 0 {
		r.add(r.headless(ns, o.Name, v1alpha1.KindCA))
	}
	r.add(r.headless(ns, o.Name, v1alpha1.KindPeer))
	for _, ca := range cas {
		r.add(r.nodeServices(ca)...)
	}
	for i := range peers {
		r.add(r.nodeServices(&peers[i])...)
	}
	for _, ca := range cas {
		r.add(r.statefulSet(ca, "ca.yaml"))
	}
	for i := range peers {
		r.add(r.statefulSet(&peers[i], "core.yaml"))
	}
	ccs, err := r.chaincodes(o)
	if err != nil {
		return err
	}
	r.add(ccs...)
	r.add(r.ingress(ns, o.Name, peers)...)
	r.add(r.peerOrgPolicies(o)...)
	return nil
}

func (r *renderer) meta(name, namespace, org, component, node string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels(r.t.net.Name, org, component, node)}
}

func (r *renderer) namespace(name, org string) *corev1.Namespace {
	m := r.meta(name, "", org, "", "")
	// Enforce the restricted pod security standard on everything in it.
	m.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
	return &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: m}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// Object is a Kubernetes object as rendered: the same method set as
// controller-runtime's client.Object, so each element can be handed to a
// client as is. (Declared here because importing controller-runtime's
// client package pulls client-go's exec auth plugin into every user.)
type Object interface {
	metav1.Object
	runtime.Object
}
