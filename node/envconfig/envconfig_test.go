package envconfig

import (
	"strings"
	"testing"
	"time"
)

type inner struct {
	Port    int           `yaml:"ListenPort"`
	Enabled bool          `yaml:"Enabled"`
	Roots   []string      `yaml:"RootCAs"`
	Wait    time.Duration `yaml:"Wait"`
	Big     uint64        `yaml:"Big"`
}

type outer struct {
	General inner  `yaml:"General"`
	Name    string `yaml:"name,omitempty"`
}

func TestApply(t *testing.T) {
	var c outer
	err := Apply(&c, "X", []string{
		"X_GENERAL_LISTENPORT=7050", "X_GENERAL_ENABLED=true", "X_GENERAL_ROOTCAS=[a, b]",
		"X_GENERAL_WAIT=2s", "X_GENERAL_BIG=5", "X_NAME=n", "Y_NAME=ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.General.Port != 7050 || !c.General.Enabled || strings.Join(c.General.Roots, "|") != "a|b" ||
		c.General.Wait != 2*time.Second || c.General.Big != 5 || c.Name != "n" {
		t.Fatalf("got %+v", c)
	}
}

func TestApplyErrors(t *testing.T) {
	for _, kv := range []string{"X_GENERAL_LISTENPORT=x", "X_GENERAL_ENABLED=maybe", "X_GENERAL_WAIT=soon", "X_GENERAL_BIG=-1"} {
		var c outer
		err := Apply(&c, "X", []string{kv})
		name, _, _ := strings.Cut(kv, "=")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming the variable", kv, err)
		}
	}
}
