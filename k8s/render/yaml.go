package render

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// YAML writes objs as one multi-document YAML stream, in order.
func YAML(objs []Object) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// JSON writes objs as a v1 List, the form kubectl accepts as one document.
func JSON(objs []Object) ([]byte, error) {
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
	return json.MarshalIndent(list, "", "  ")
}
