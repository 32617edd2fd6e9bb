package spec

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var networkType = reflect.TypeFor[Network]()

// checkShape walks the YAML tree alongside the Go type it will decode into,
// recording the line of every field and reporting, with the field path,
// anything the decoder would reject or silently drop: unknown keys, duplicate
// keys, wrong node kinds and scalars that do not fit the field's type. This
// replaces yaml.v3's KnownFields mode, whose errors carry a line but not the
// field path, and stop making sense once a mapping is malformed.
//
// Offending nodes are removed from the tree (or, as values, turned into
// nulls) so the decoder that runs afterwards sees only well-formed input and
// the remaining checks still run on everything else.
func checkShape(n *yaml.Node, t reflect.Type, path string, p *problems) (ok bool) {
	if n.Kind == yaml.AliasNode {
		p.addf(path, "YAML aliases are not supported in a spec; write the value out")
		p.skip[path] = true
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	isNull := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	switch t.Kind() {
	case reflect.Struct:
		if isNull {
			return true
		}
		if n.Kind != yaml.MappingNode {
			shapeMismatch(n, "a mapping", path, p)
			return false
		}
		checkMapping(n, t, path, p)
	case reflect.Slice:
		if isNull {
			return true
		}
		if n.Kind != yaml.SequenceNode {
			shapeMismatch(n, "a list", path, p)
			return false
		}
		for i, item := range n.Content {
			ip := path + "[" + strconv.Itoa(i) + "]"
			p.lines[ip] = item.Line
			if !checkShape(item, t.Elem(), ip, p) {
				n.Content[i] = nullNode(item)
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			shapeMismatch(n, "a "+kindName(t), path, p)
			return false
		}
		if err := safeDecode(n, reflect.New(t).Interface()); err != nil {
			p.addf(path, "%q is not a valid %s", clip(n.Value), kindName(t))
			p.skip[path] = true
			return false
		}
	}
	return true
}

func nullNode(at *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: at.Line, Column: at.Column}
}

func checkMapping(n *yaml.Node, t reflect.Type, path string, p *problems) {
	fields := yamlFields(t)
	seen := map[string]int{}
	kept := n.Content[:0:0]
	defer func() { n.Content = kept }()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.list = append(p.list, &FieldError{Source: p.source, Line: k.Line, Path: path,
				Msg: "mapping keys must be plain strings"})
			p.skip[path] = true
			continue
		}
		fp := k.Value
		if path != "" {
			fp = path + "." + k.Value
		}
		if k.Value == "<<" {
			p.list = append(p.list, &FieldError{Source: p.source, Line: k.Line, Path: path,
				Msg: "YAML merge keys (<<) are not supported in a spec"})
			p.skip[path] = true
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.list = append(p.list, &FieldError{Source: p.source, Line: k.Line, Path: fp,
				Msg: "duplicate key; first set on line " + strconv.Itoa(prev)})
			p.skip[fp] = true
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			p.list = append(p.list, &FieldError{Source: p.source, Line: k.Line, Path: fp,
				Msg: "unknown field; known fields here: " + knownList(fields)})
			continue
		}
		p.lines[fp] = k.Line
		if !checkShape(v, ft, fp, p) {
			v = nullNode(v)
		}
		kept = append(kept, k, v)
	}
}

// shapeMismatch reports a node of the wrong kind and marks the path so later
// checks do not complain about the zero value it decodes to.
func shapeMismatch(n *yaml.Node, want, path string, p *problems) {
	got := map[yaml.Kind]string{
		yaml.MappingNode:  "a mapping",
		yaml.SequenceNode: "a list",
		yaml.ScalarNode:   "a scalar",
	}[n.Kind]
	if got == "" {
		got = "something else"
	}
	p.list = append(p.list, &FieldError{Source: p.source, Line: n.Line, Path: path,
		Msg: "expected " + want + ", found " + got})
	p.skip[path] = true
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return "non-negative integer"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return "integer"
	case reflect.String:
		return "string"
	}
	return t.Kind().String()
}

// yamlFields maps the YAML key of each exported field of struct type t to
// the field's type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func knownList(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
