package cli

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"weft/k8s/render"
)

func TestFetchProfile(t *testing.T) {
	profile := func(ns string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: render.ProfileSecretName, Namespace: ns}, Data: data}
	}
	c := fake.NewClientBuilder().WithObjects(
		profile("net-org1", map[string][]byte{"connection-org1.json": []byte(`{"name":"net-org1"}`)}),
		profile("net-org2", map[string][]byte{"other.json": []byte(`{}`)}),
	).Build()
	cases := []struct {
		org, want, wantErr string
	}{
		{org: "Org1", want: "{\"name\":\"net-org1\"}\n"},
		{org: "Org2", wantErr: "has no key connection-org2.json"},
		{org: "Org3", wantErr: "no Secret net-org3/connection-profile"},
	}
	for _, tt := range cases {
		t.Run(tt.org, func(t *testing.T) {
			got, err := fetchProfile(context.Background(), c, "net", tt.org)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestK8sCommandFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"k8s", "connection-profile", "--org", "Org1"}, "--network: is required"},
		{[]string{"k8s", "connection-profile", "--network", "n"}, "--org: is required"},
		{[]string{"k8s", "connection-profile", "--network", "n", "--org", "Org1", "--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig"},
		{[]string{"operator", "--kubeconfig", "/nonexistent/kubeconfig", "--metrics-bind-address", "0"}, "--kubeconfig /nonexistent/kubeconfig"},
	}
	for _, tt := range cases {
		var out, errb strings.Builder
		if code := Main(tt.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", tt.args, code, errb.String(), tt.want)
		}
	}
}
