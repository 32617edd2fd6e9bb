package render

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func TestCA(t *testing.T) {
	k := byKind(mustObjects(t, defaultNetwork(), defaultMaterial(t)))
	var cfg struct {
		Port int
		TLS  struct {
			Enabled  bool
			CertFile string `json:"certfile"`
			Hosts    []string
		}
		Registry struct {
			Identities []struct {
				Name    string
				PassEnv string `json:"passenv"`
			}
		}
		CAs []struct {
			Name     string
			KeyFile  string `json:"keyfile"`
			CertFile string `json:"certfile"`
		} `json:"cas"`
	}
	cm := k["ConfigMap"][org1NS+"/ca-config"].(*corev1.ConfigMap)
	if err := yaml.Unmarshal([]byte(cm.Data["ca.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Port != CAPort || !cfg.TLS.Enabled || len(cfg.CAs) != 1 || cfg.CAs[0].Name != "ca-org1" {
		t.Fatalf("ca.yaml: %+v", cfg)
	}
	if cfg.TLS.Hosts[0] != "ca.org1.example.com" || cfg.TLS.Hosts[1] != "ca."+org1NS+".svc.cluster.local" {
		t.Errorf("TLS hosts %v", cfg.TLS.Hosts)
	}
	if cfg.TLS.CertFile[:len(dataDir)] != dataDir {
		t.Errorf("generated TLS certificate at %s, not on the volume", cfg.TLS.CertFile)
	}
	ss := k["StatefulSet"][org1NS+"/ca"].(*appsv1.StatefulSet)
	mounted := map[string]bool{}
	for _, v := range ss.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			for _, it := range v.Secret.Items {
				mounted[cryptoDir+"/"+it.Path] = true
			}
		}
	}
	if !mounted[cfg.CAs[0].KeyFile] || !mounted[cfg.CAs[0].CertFile] {
		t.Errorf("CA key %s / cert %s not mounted (%v)", cfg.CAs[0].KeyFile, cfg.CAs[0].CertFile, mounted)
	}
	env := ss.Spec.Template.Spec.Containers[0].Env
	if len(cfg.Registry.Identities) != 1 || len(env) != 1 || env[0].Name != cfg.Registry.Identities[0].PassEnv ||
		env[0].ValueFrom.SecretKeyRef.Name != CAAdminSecretName {
		t.Errorf("registrar %+v, env %+v", cfg.Registry.Identities, env)
	}
	p1 := k["Secret"][org1NS+"/"+CAAdminSecretName].(*corev1.Secret).Data[CAAdminPasswordKey]
	p2 := k["Secret"][org2NS+"/"+CAAdminSecretName].(*corev1.Secret).Data[CAAdminPasswordKey]
	if len(p1) != 32 || string(p1) == string(p2) {
		t.Errorf("registrar passwords %q %q", p1, p2)
	}
}
