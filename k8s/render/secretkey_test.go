package render

import (
	"regexp"
	"testing"
)

func TestSecretKeyIsValidAndReversible(t *testing.T) {
	valid := regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	for _, rel := range []string{
		"msp/signcerts/Admin@org1.example.com-cert.pem",
		"msp/keystore/priv_sk",
		"tls/ca.crt",
		"a/_at_/b__c@/d",
		"x_2f",
		"_",
	} {
		k := secretKey(rel)
		if !valid.MatchString(k) {
			t.Errorf("secretKey(%q) = %q: not a valid Secret data key", rel, k)
		}
		if back := SecretKeyPath(k); back != rel {
			t.Errorf("SecretKeyPath(secretKey(%q)) = %q", rel, back)
		}
	}
	if secretKey("a/b") == secretKey("a_b") {
		t.Error("distinct paths map to one key")
	}
}
