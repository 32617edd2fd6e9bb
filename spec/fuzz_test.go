package spec

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that no input makes Parse panic, and that whatever Parse
// accepts is valid and survives a marshal/parse round trip unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(baseSpec))
	for _, tc := range rejectCases {
		f.Add([]byte(tc.doc))
	}
	if data, err := yaml.Marshal(Default()); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			if n != nil {
				t.Fatal("network returned with an error")
			}
			if len(Problems(err)) == 0 {
				t.Fatalf("error without FieldErrors: %v", err)
			}
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate rejects: %v", err)
		}
		out, err := yaml.Marshal(n)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of marshalled spec failed: %v\n%s", err, out)
		}
		n.lines, back.lines = nil, nil
		if !reflect.DeepEqual(n, back) {
			t.Fatalf("round trip changed the network:\n%s", out)
		}
	})
}
