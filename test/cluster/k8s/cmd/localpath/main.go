// Command localpath is the dynamic volume provisioner of weft's test cluster.
// It serves StorageClasses whose provisioner is "weft.local/local-path": each
// claim handed to it gets a hostPath PersistentVolume in a directory of its
// own under -base, pinned to the node the scheduler chose; released volumes
// with reclaim policy Delete lose their directory and their PV object.
// A plain two-second poll is enough for a one-node test cluster and avoids
// the informer machinery.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	provisionerName = "weft.local/local-path"
	annProvisioner  = "volume.kubernetes.io/storage-provisioner"
	annSelectedNode = "volume.kubernetes.io/selected-node"
	annProvisioned  = "pv.kubernetes.io/provisioned-by"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file (empty: in-cluster service account)")
	base := flag.String("base", os.Getenv("BASE_DIR"), "host directory holding the volumes (env BASE_DIR)")
	flag.Parse()
	if *base == "" || !filepath.IsAbs(*base) {
		log.Fatalf("-base: need an absolute directory, got %q", *base)
	}
	var cfg *rest.Config
	var err error
	if *kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", *kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		log.Fatalf("client config: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	p := &provisioner{cs: cs, base: filepath.Clean(*base)}
	log.Printf("%s: volumes under %s", provisionerName, p.base)
	for {
		if err := p.sync(context.Background()); err != nil {
			log.Printf("sync: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
}

type provisioner struct {
	cs   kubernetes.Interface
	base string
}

func (p *provisioner) sync(ctx context.Context) error {
	scs, err := p.cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list storage classes: %w", err)
	}
	classes := map[string]storagev1.StorageClass{}
	for _, sc := range scs.Items {
		if sc.Provisioner == provisionerName {
			classes[sc.Name] = sc
		}
	}
	pvcs, err := p.cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		if pvc.Spec.StorageClassName == nil || pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending ||
			pvc.DeletionTimestamp != nil || pvc.Annotations[annProvisioner] != provisionerName {
			continue
		}
		sc, ok := classes[*pvc.Spec.StorageClassName]
		if !ok {
			continue
		}
		node := pvc.Annotations[annSelectedNode]
		if node == "" && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
			continue // the scheduler has not picked a node yet
		}
		if err := p.provision(ctx, pvc, sc, node); err != nil {
			log.Printf("claim %s/%s: %v", pvc.Namespace, pvc.Name, err)
		}
	}
	return p.reclaim(ctx)
}

func (p *provisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim, sc storagev1.StorageClass, node string) error {
	name := "pvc-" + string(pvc.UID)
	dir := filepath.Join(p.base, pvc.Namespace+"_"+pvc.Name+"_"+name)
	// World-writable so that pods running as any user can use the volume.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("volume dir: %w", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("volume dir: %w", err)
	}
	policy := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		policy = *sc.ReclaimPolicy
	}
	hostType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisioned: provisionerName}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      pvc.Spec.Resources.Requests,
			AccessModes:                   pvc.Spec.AccessModes,
			VolumeMode:                    pvc.Spec.VolumeMode,
			StorageClassName:              sc.Name,
			PersistentVolumeReclaimPolicy: policy,
			ClaimRef: &corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostType}},
		},
	}
	if node != "" {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}
	}
	if _, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create volume %s: %w", name, err)
	}
	log.Printf("provisioned %s for %s/%s at %s", name, pvc.Namespace, pvc.Name, dir)
	return nil
}

// reclaim deletes released volumes of ours, but only directories under base:
// a PV edited to point elsewhere must never make us remove host files.
func (p *provisioner) reclaim(ctx context.Context) error {
	pvs, err := p.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list volumes: %w", err)
	}
	for _, pv := range pvs.Items {
		if pv.Annotations[annProvisioned] != provisionerName || pv.Status.Phase != corev1.VolumeReleased ||
			pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Spec.HostPath == nil {
			continue
		}
		dir := filepath.Clean(pv.Spec.HostPath.Path)
		if !strings.HasPrefix(dir, p.base+string(filepath.Separator)) {
			log.Printf("volume %s: path %s is outside %s, not deleting", pv.Name, dir, p.base)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Printf("volume %s: %v", pv.Name, err)
			continue
		}
		if err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			log.Printf("delete volume %s: %v", pv.Name, err)
			continue
		}
		log.Printf("deleted %s and %s", pv.Name, dir)
	}
	return nil
}
