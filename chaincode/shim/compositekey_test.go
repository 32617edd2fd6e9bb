package shim

import (
	"reflect"
	"strings"
	"testing"
)

func TestCompositeKeyRoundTrip(t *testing.T) {
	cases := []struct {
		objectType string
		attrs      []string
		want       string
	}{
		{"color~id", []string{"blue", "asset1"}, "\x00color~id\x00blue\x00asset1\x00"},
		{"owner", nil, "\x00owner\x00"},
		{"ünï", []string{"ç", "x y"}, "\x00ünï\x00ç\x00x y\x00"},
	}
	for _, c := range cases {
		got, err := CreateCompositeKey(c.objectType, c.attrs)
		if err != nil || got != c.want {
			t.Fatalf("CreateCompositeKey(%q, %q) = %q, %v; want %q", c.objectType, c.attrs, got, err, c.want)
		}
		ot, attrs, err := SplitCompositeKey(got)
		if err != nil || ot != c.objectType || !reflect.DeepEqual(attrs, c.attrs) {
			t.Fatalf("SplitCompositeKey(%q) = %q, %q, %v", got, ot, attrs, err)
		}
	}
}

func TestCreateCompositeKeyRejects(t *testing.T) {
	cases := []struct {
		name       string
		objectType string
		attrs      []string
		want       string
	}{
		{"empty type", "", []string{"a"}, "object type is empty"},
		{"nul in type", "a\x00b", nil, "U+0000"},
		{"max rune in attr", "t", []string{"ok", "a" + maxRune}, "attribute 1"},
		{"empty attr", "t", []string{""}, "attribute 0 is empty"},
		{"bad utf8", "t", []string{"\xff"}, "not valid UTF-8"},
	}
	for _, c := range cases {
		_, err := CreateCompositeKey(c.objectType, c.attrs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestSplitCompositeKeyRejects(t *testing.T) {
	for _, k := range []string{"", "plain", "\x00", "\x00\x00", "\x00type"} {
		if _, _, err := SplitCompositeKey(k); err == nil {
			t.Errorf("SplitCompositeKey(%q) succeeded", k)
		}
	}
}
