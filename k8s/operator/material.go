package operator

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/k8s/render"
)

// Labels and annotations of the Secrets holding a Network's crypto tree.
const (
	// LabelMaterial marks material Secrets; pruning never touches them.
	LabelMaterial = "weft.dev/material"
	// AnnotationMaterialHash is the SHA-256 of the uncompressed archive,
	// on the first Secret; it changes whenever the tree does.
	AnnotationMaterialHash = "weft.dev/material-sha256"
	// annMaterialParts counts the Secrets.
	annMaterialParts = "weft.dev/material-parts"
	materialKey      = "material.tar.gz"
)

// materialPartSize keeps each Secret well under the API server's 1 MiB
// object limit.
const materialPartSize = 700 << 10

// MaterialSecretName is the i-th Secret holding a Network's crypto tree, in
// the Network's own namespace: "<name>-material", "<name>-material-1", ...
func MaterialSecretName(network string, i int) string {
	if i == 0 {
		return network + "-material"
	}
	return network + "-material-" + strconv.Itoa(i)
}

// storedMaterial is the archive read back from the Secrets, nil when the
// Network has none yet.
type storedMaterial struct {
	archive []byte // uncompressed tar
	hash    string
	parts   int
}

// loadMaterial reads and joins a Network's material Secrets.
func loadMaterial(ctx context.Context, r client.Reader, net *v1alpha1.Network) (*storedMaterial, error) {
	var first corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: net.Namespace, Name: MaterialSecretName(net.Name, 0)}, &first)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("material Secret %s: %w", MaterialSecretName(net.Name, 0), err)
	}
	parts, err := strconv.Atoi(first.Annotations[annMaterialParts])
	if err != nil || parts < 1 || parts > 64 {
		return nil, fmt.Errorf("material Secret %s: annotation %s=%q is not a part count", first.Name, annMaterialParts, first.Annotations[annMaterialParts])
	}
	gz := append([]byte(nil), first.Data[materialKey]...)
	for i := 1; i < parts; i++ {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: net.Namespace, Name: MaterialSecretName(net.Name, i)}, &s); err != nil {
			return nil, fmt.Errorf("material Secret %s: %w", MaterialSecretName(net.Name, i), err)
		}
		gz = append(gz, s.Data[materialKey]...)
	}
	archive, err := gunzipBytes(gz)
	if err != nil {
		return nil, fmt.Errorf("material Secrets of %s: %w", net.Name, err)
	}
	want := first.Annotations[AnnotationMaterialHash]
	if got := sha256Hex(archive); got != want {
		return nil, fmt.Errorf("material Secrets of %s: archive hash %s does not match annotation %s=%s (a part was edited or lost)", net.Name, got, AnnotationMaterialHash, want)
	}
	return &storedMaterial{archive: archive, hash: want, parts: parts}, nil
}

// saveMaterial writes archive into the Network's material Secrets and
// deletes parts a smaller archive no longer needs. The first Secret, which
// carries the hash, is written last, so a crash midway leaves a set whose
// hash check fails rather than one that silently mixes two trees.
func saveMaterial(ctx context.Context, c client.Client, net *v1alpha1.Network, archive []byte, old *storedMaterial) error {
	gz, err := gzipBytes(archive)
	if err != nil {
		return err
	}
	pieces := chunk(gz, materialPartSize)
	labels := map[string]string{
		render.LabelNetwork: net.NetworkSpec().Name, LabelMaterial: "true",
		render.LabelManagedBy: "weft", render.LabelName: "weft",
	}
	for i := len(pieces) - 1; i >= 0; i-- {
		s := &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: MaterialSecretName(net.Name, i), Namespace: net.Namespace, Labels: labels},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{materialKey: pieces[i]},
		}
		if i == 0 {
			s.Annotations = map[string]string{AnnotationMaterialHash: sha256Hex(archive), annMaterialParts: strconv.Itoa(len(pieces))}
		}
		if err := applyObject(ctx, c, s); err != nil {
			return fmt.Errorf("material Secret %s: %w", s.Name, err)
		}
	}
	if old != nil {
		for i := len(pieces); i < old.parts; i++ {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: MaterialSecretName(net.Name, i), Namespace: net.Namespace}}
			if err := c.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("material Secret %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

// deleteMaterial removes every material Secret of the Network.
func deleteMaterial(ctx context.Context, c client.Client, r client.Reader, net *v1alpha1.Network) error {
	var list corev1.SecretList
	if err := r.List(ctx, &list, client.InNamespace(net.Namespace), client.MatchingLabels{LabelMaterial: "true"}); err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != MaterialSecretName(net.Name, 0) && !isMaterialPart(s.Name, net.Name) {
			continue
		}
		if err := c.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("material Secret %s: %w", s.Name, err)
		}
	}
	return nil
}

func isMaterialPart(secret, network string) bool {
	for i := 1; i <= 64; i++ {
		if secret == MaterialSecretName(network, i) {
			return true
		}
	}
	return false
}

// prepareMaterial restores the Network's crypto tree into a fresh
// directory, extends it to the current spec (new peers, orgs, channels)
// with render.GenerateMaterial, persists it when that changed anything and
// loads it for rendering. The caller removes the returned directory.
func prepareMaterial(ctx context.Context, c client.Client, r client.Reader, net *v1alpha1.Network) (*render.Material, string, error) {
	dir, err := os.MkdirTemp("", "weft-operator-")
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*render.Material, string, error) {
		os.RemoveAll(dir)
		return nil, "", err
	}
	old, err := loadMaterial(ctx, r, net)
	if err != nil {
		return fail(err)
	}
	if old != nil {
		if err := unpackTree(old.archive, dir); err != nil {
			return fail(err)
		}
	}
	if err := render.GenerateMaterial(net, dir, io.Discard); err != nil {
		return fail(err)
	}
	archive, err := packTree(dir)
	if err != nil {
		return fail(err)
	}
	if old == nil || sha256Hex(archive) != old.hash {
		if err := saveMaterial(ctx, c, net, archive, old); err != nil {
			return fail(err)
		}
	}
	m, err := render.LoadMaterial(net, dir)
	if err != nil {
		return fail(fmt.Errorf("crypto material: %w", err))
	}
	return m, dir, nil
}

// RestoreMaterial writes the crypto tree stored for net into dir (empty or
// absent), as render.LoadMaterial reads it; false when the operator has
// stored none yet. For backups and for tools that act as the network's
// admins outside the operator.
func RestoreMaterial(ctx context.Context, r client.Reader, net *v1alpha1.Network, dir string) (bool, error) {
	stored, err := loadMaterial(ctx, r, net)
	if err != nil || stored == nil {
		return false, err
	}
	if err := unpackTree(stored.archive, dir); err != nil {
		return false, err
	}
	return true, nil
}
