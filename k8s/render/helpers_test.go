package render

import (
	"os"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

func defaultNetwork() *v1alpha1.Network {
	return &v1alpha1.Network{
		TypeMeta:   metav1.TypeMeta{APIVersion: "weft.dev/v1alpha1", Kind: "Network"},
		ObjectMeta: metav1.ObjectMeta{Name: "test-network", Namespace: "weft"},
		Spec:       v1alpha1.NetworkSpec{FabricNetwork: v1alpha1.FromSpec(spec.Default())},
	}
}

var (
	matOnce sync.Once
	matDir  string
	mat     *Material
	matErr  error
)

// defaultMaterial generates the default network's material once per test
// binary: key generation is the slow part and every test reads the same.
func defaultMaterial(t *testing.T) *Material {
	t.Helper()
	matOnce.Do(func() {
		matDir, matErr = os.MkdirTemp("", "weft-render-test-")
		if matErr != nil {
			return
		}
		if matErr = GenerateMaterial(defaultNetwork(), matDir, nil); matErr != nil {
			return
		}
		mat, matErr = LoadMaterial(defaultNetwork(), matDir)
	})
	if matErr != nil {
		t.Fatalf("material: %v", matErr)
	}
	return mat
}

func TestMain(m *testing.M) {
	code := m.Run()
	if matDir != "" {
		os.RemoveAll(matDir)
	}
	os.Exit(code)
}

func mustObjects(t *testing.T, res *v1alpha1.Network, m *Material) []Object {
	t.Helper()
	objs, err := Objects(res, m)
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	return objs
}

// byKind groups objects as "Kind" -> "namespace/name" -> object.
func byKind(objs []Object) map[string]map[string]Object {
	out := map[string]map[string]Object{}
	for _, o := range objs {
		k := o.GetObjectKind().GroupVersionKind().Kind
		if out[k] == nil {
			out[k] = map[string]Object{}
		}
		out[k][o.GetNamespace()+"/"+o.GetName()] = o
	}
	return out
}
