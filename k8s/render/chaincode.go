package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/peer/chaincode"
	"weft/spec"
)

// Package is the chaincode-as-a-service install package of one chaincode
// for one org: its connection.json names the org's own chaincode Service,
// so the package, and therefore its ID, differs per org.
type Package struct {
	Org, Channel, Chaincode string
	Label                   string
	// ID is "<label>:<sha256 of Bytes>", the package ID the peers report.
	ID    string
	Bytes []byte
	// Address is the chaincode Service, host:port.
	Address string
}

// Packages returns the install package of every chaincode for every org on
// its channel, in spec order: what the operator installs on each org's
// peers. On the cluster every chaincode runs as a service.
func Packages(res *v1alpha1.Network) ([]Package, error) {
	t, err := newTopology(res)
	if err != nil {
		return nil, err
	}
	var out []Package
	for _, o := range t.net.Orgs {
		for i := range t.net.Chaincodes {
			cc := &t.net.Chaincodes[i]
			if !t.orgOnChannel(o.Name, cc.Channel) {
				continue
			}
			p, err := t.pkg(o.Name, cc)
			if err != nil {
				return nil, err
			}
			out = append(out, *p)
		}
	}
	return out, nil
}

func (t *topology) orgOnChannel(org, channel string) bool {
	ch := t.net.Channel(channel)
	if ch == nil {
		return false
	}
	for _, o := range ch.Orgs {
		if o == org {
			return true
		}
	}
	return false
}

func (t *topology) pkg(org string, cc *spec.Chaincode) (*Package, error) {
	addr := InternalHost(chaincodeName(cc), t.orgNamespace(org)) + ":" + strconv.Itoa(ChaincodePort)
	b, err := chaincode.BuildCCaaSPackage(cc.Label, chaincode.Connection{Address: addr, DialTimeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("chaincode %q on %q: package: %w", cc.Name, cc.Channel, err)
	}
	return &Package{Org: org, Channel: cc.Channel, Chaincode: cc.Name, Label: cc.Label,
		ID: chaincode.PackageID(cc.Label, b), Bytes: b, Address: addr}, nil
}

func (r *renderer) orgHasChaincode(o *spec.Org) bool {
	for _, cc := range r.t.net.Chaincodes {
		if r.t.orgOnChannel(o.Name, cc.Channel) {
			return true
		}
	}
	return false
}

// ChaincodeImage is the image a chaincode runs: spec.chaincodeImages, or
// "weft-cc-<name>:<version>" as `weft image build` names them.
func ChaincodeImage(res *v1alpha1.Network, cc *spec.Chaincode) string {
	for _, ci := range res.Spec.ChaincodeImages {
		if ci.Name == cc.Name {
			return ci.Image
		}
	}
	return "weft-cc-" + strings.ToLower(cc.Name) + ":" + cc.Version
}

// chaincodes renders a Deployment and Service per chaincode of the org's
// channels, told its package ID so no one edits it in by hand.
func (r *renderer) chaincodes(o *spec.Org) ([]Object, error) {
	var out []Object
	ns := r.t.orgNamespace(o.Name)
	for i := range r.t.net.Chaincodes {
		cc := &r.t.net.Chaincodes[i]
		if !r.t.orgOnChannel(o.Name, cc.Channel) {
			continue
		}
		p, err := r.t.pkg(o.Name, cc)
		if err != nil {
			return nil, err
		}
		name := chaincodeName(cc)
		labels := labels(r.t.net.Name, o.Name, string(v1alpha1.KindChaincode), name)
		sel := selector(r.t.net.Name, string(v1alpha1.KindChaincode), name)
		container := corev1.Container{
			Name:            "chaincode",
			Image:           ChaincodeImage(r.t.res, cc),
			ImagePullPolicy: r.t.res.Spec.ImagePullPolicy,
			Env: []corev1.EnvVar{
				{Name: "CHAINCODE_ID", Value: p.ID},
				{Name: "CORE_CHAINCODE_ID_NAME", Value: p.ID},
				{Name: "CHAINCODE_SERVER_ADDRESS", Value: "0.0.0.0:" + strconv.Itoa(ChaincodePort)},
			},
			Ports:     []corev1.ContainerPort{{Name: "chaincode", ContainerPort: ChaincodePort}},
			Resources: *r.t.res.Spec.Resources.Chaincode.DeepCopy(),
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("chaincode")}},
				PeriodSeconds: 5,
			},
			VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
			SecurityContext: containerSecurity(),
		}
		one := int32(1)
		k := &r.t.res.Spec.Kubernetes
		dep := &appsv1.Deployment{
			TypeMeta:   typeMeta("apps/v1", "Deployment"),
			ObjectMeta: r.meta(name, ns, o.Name, string(v1alpha1.KindChaincode), name),
			Spec: appsv1.DeploymentSpec{
				Replicas: &one,
				Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"weft.dev/package-id": p.ID}},
					Spec: corev1.PodSpec{
						Containers:                   []corev1.Container{container},
						SecurityContext:              podSecurity(),
						AutomountServiceAccountToken: new(bool),
						EnableServiceLinks:           new(bool),
						NodeSelector:                 copyMap(k.Placement.NodeSelector),
						Tolerations:                  append([]corev1.Toleration(nil), k.Placement.Tolerations...),
						Volumes:                      []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
					},
				},
			},
		}
		svc := &corev1.Service{
			TypeMeta:   typeMeta("v1", "Service"),
			ObjectMeta: r.meta(name, ns, o.Name, string(v1alpha1.KindChaincode), name),
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeClusterIP,
				Selector: sel,
				Ports:    []corev1.ServicePort{{Name: "chaincode", Port: ChaincodePort, TargetPort: intstr.FromString("chaincode")}},
			},
		}
		out = append(out, svc, dep)
	}
	return out, nil
}
