package render

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "weft/k8s/api/v1alpha1"
)

// runAs is the unprivileged user and group of every container.
const runAs = 10001

// Default claim sizes per kind when spec.storage leaves them empty.
var defaultSize = map[v1alpha1.NodeKind]string{
	v1alpha1.KindPeer: "10Gi", v1alpha1.KindOrderer: "10Gi", v1alpha1.KindCA: "1Gi",
}

func headlessName(kind v1alpha1.NodeKind) string { return string(kind) + "-headless" }

// statefulSet runs one node: one replica, its config and crypto mounted
// read-only, its data on a claim that outlives the pod.
func (r *renderer) statefulSet(nd *node, configFile string) *appsv1.StatefulSet {
	k := &r.t.res.Spec.Kubernetes
	var vol v1alpha1.Volume
	var res corev1.ResourceRequirements
	switch nd.kind {
	case v1alpha1.KindPeer:
		vol, res = k.Storage.Peer, k.Resources.Peer
	case v1alpha1.KindOrderer:
		vol, res = k.Storage.Orderer, k.Resources.Orderer
	case v1alpha1.KindCA:
		vol, res = k.Storage.CA, k.Resources.CA
	}
	size := resource.MustParse(defaultSize[nd.kind])
	if vol.Size != nil {
		size = *vol.Size
	}
	labels := labels(r.t.net.Name, nd.orgName, string(nd.kind), nd.name)
	container := corev1.Container{
		Name:            string(nd.kind),
		Image:           r.image(),
		ImagePullPolicy: k.ImagePullPolicy,
		Args:            []string{"node", string(nd.kind), "--config", configDir + "/" + configFile, "--log-format", "json"},
		Ports:           r.containerPorts(nd),
		Resources:       *res.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "config", MountPath: configDir, ReadOnly: true},
			{Name: "crypto", MountPath: cryptoDir, ReadOnly: true},
			{Name: "data", MountPath: dataDir},
			{Name: "tmp", MountPath: "/tmp"},
		},
		LivenessProbe:   healthProbe(10, 6),
		ReadinessProbe:  healthProbe(5, 3),
		SecurityContext: containerSecurity(),
	}
	if nd.kind == v1alpha1.KindCA {
		container.Env = []corev1.EnvVar{{Name: caAdminPassEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: CAAdminSecretName}, Key: CAAdminPasswordKey,
		}}}}
	}
	annotations := scrapeAnnotations()
	if h := r.configHash(nd); h != "" {
		annotations[AnnotationConfigHash] = h
	}
	pod := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			Containers:                   []corev1.Container{container},
			SecurityContext:              podSecurity(),
			AutomountServiceAccountToken: new(bool),
			EnableServiceLinks:           new(bool),
			Affinity:                     r.affinity(nd),
			NodeSelector:                 copyMap(k.Placement.NodeSelector),
			Tolerations:                  append([]corev1.Toleration(nil), k.Placement.Tolerations...),
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: nd.name + "-config"},
				}}},
				secretVolume("crypto", r.secrets[nd.namespace+"/"+nodeCryptoName(nd)]),
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
	one := int32(1)
	return &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: r.meta(nd.name, nd.namespace, nd.orgName, string(nd.kind), nd.name),
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &one,
			ServiceName: headlessName(nd.kind),
			Selector:    &metav1.LabelSelector{MatchLabels: selector(r.t.net.Name, string(nd.kind), nd.name)},
			Template:    pod,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: labels},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: copyString(vol.StorageClassName),
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
				},
			}},
			// The ledger must survive the StatefulSet: deleting a node is
			// not deleting its data (the operator removes claims on request).
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
}

func (r *renderer) image() string {
	if img := r.t.res.Spec.Image; img != "" {
		return img
	}
	return v1alpha1.DefaultImage
}

func (r *renderer) containerPorts(nd *node) []corev1.ContainerPort {
	ports := []corev1.ContainerPort{{Name: portName(nd.kind), ContainerPort: int32(nd.port)}}
	if nd.kind == v1alpha1.KindOrderer {
		ports = append(ports, corev1.ContainerPort{Name: "admin", ContainerPort: OrdererAdminPort})
	}
	return append(ports, corev1.ContainerPort{Name: "operations", ContainerPort: OperationsPort})
}

// portName names a kind's client port: "grpcs" for the gRPC nodes, "https"
// for the CA's REST API.
func portName(kind v1alpha1.NodeKind) string {
	if kind == v1alpha1.KindCA {
		return "https"
	}
	return "grpcs"
}

// healthProbe checks /healthz on the operations listener, which answers
// once the node is serving.
func healthProbe(period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/healthz", Port: intstr.FromString("operations"), Scheme: corev1.URISchemeHTTP,
		}},
		InitialDelaySeconds: 5,
		PeriodSeconds:       period,
		TimeoutSeconds:      3,
		FailureThreshold:    failures,
	}
}

func scrapeAnnotations() map[string]string {
	return map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(OperationsPort),
		"prometheus.io/path":   "/metrics",
	}
}

// podSecurity and containerSecurity satisfy the "restricted" pod security
// standard.
func podSecurity() *corev1.PodSecurityContext {
	id := int64(runAs)
	yes := true
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   &yes,
		RunAsUser:      &id,
		RunAsGroup:     &id,
		FSGroup:        &id,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func containerSecurity() *corev1.SecurityContext {
	yes, no := true, false
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// affinity prefers spreading an org's peers, and the Raft orderers, over
// cluster nodes. Preferred rather than required, so a one-node cluster
// still runs the whole network.
func (r *renderer) affinity(nd *node) *corev1.Affinity {
	aa := r.t.res.Spec.Placement.AntiAffinity
	if (aa != nil && !*aa) || nd.kind == v1alpha1.KindCA {
		return nil
	}
	match := selector(r.t.net.Name, string(nd.kind), "")
	match[LabelOrg] = nd.orgName
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: match},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyString(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	v := *s
	return &v
}
