package configtxgen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"weft/wire/common"
)

// InspectBlock renders a block as indented JSON the way configtxgen
// -inspectBlock does: every bytes field that carries a known message
// (payloads, headers, config values, policies, principals, MSP configs,
// consensus metadata, block metadata) is shown decoded instead of as base64.
func InspectBlock(b *common.Block) ([]byte, error) {
	if b == nil {
		return nil, fmt.Errorf("inspect block: block is nil")
	}
	return MessageJSON(b)
}

// MessageJSON renders any message with the same nested decoding as
// InspectBlock; a ConfigGroup, for instance, shows its values and policies
// decoded.
func MessageJSON(m proto.Message) ([]byte, error) {
	v, err := render(m, "", "")
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return append(out, '\n'), nil
}

var leafJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// render turns m into plain JSON values: protojson for the fields as they
// are, then message-typed fields are rendered again (so rules apply at any
// depth) and bytes fields with a rule are replaced by their decoded form.
func render(m proto.Message, label, path string) (any, error) {
	raw, err := leafJSON.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", orRoot(path), err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large integers exact
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", orRoot(path), err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return v, nil // well-known types such as Timestamp render as scalars
	}
	rm := m.ProtoReflect()
	fields := rm.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.ContainingOneof() != nil && !rm.Has(fd) {
			continue
		}
		name := string(fd.Name())
		fpath := join(path, name)
		var val any
		var err error
		switch {
		case fd.Kind() == protoreflect.BytesKind:
			rule, ok := bytesRules[string(rm.Descriptor().FullName())+"."+name]
			if !ok {
				continue
			}
			val, err = renderBytesField(m, rm, fd, rule, label, fpath)
		case fd.Kind() != protoreflect.MessageKind || isWellKnown(fd):
			continue
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				continue
			}
			val, err = renderMap(rm.Get(fd).Map(), fpath)
		case fd.IsList():
			val, err = renderList(rm.Get(fd).List(), fpath)
		default:
			if !rm.Has(fd) {
				continue
			}
			val, err = render(rm.Get(fd).Message().Interface(), "", fpath)
		}
		if err != nil {
			return nil, err
		}
		obj[name] = val
	}
	return obj, nil
}

func renderBytesField(m proto.Message, rm protoreflect.Message, fd protoreflect.FieldDescriptor, rule bytesRule, label, path string) (any, error) {
	if !fd.IsList() {
		return decodeBytes(rm.Get(fd).Bytes(), rule, ruleCtx{msg: m, label: label, index: -1}, path)
	}
	list := rm.Get(fd).List()
	out := make([]any, list.Len())
	for j := range out {
		v, err := decodeBytes(list.Get(j).Bytes(), rule, ruleCtx{msg: m, label: label, index: j}, fmt.Sprintf("%s[%d]", path, j))
		if err != nil {
			return nil, err
		}
		out[j] = v
	}
	return out, nil
}

func decodeBytes(b []byte, rule bytesRule, c ruleCtx, path string) (any, error) {
	target, childLabel := rule(c)
	if target == nil {
		return base64.StdEncoding.EncodeToString(b), nil // as protojson shows bytes
	}
	if err := proto.Unmarshal(b, target); err != nil {
		return nil, fmt.Errorf("%s: decode as %s: %w", path, target.ProtoReflect().Descriptor().FullName(), err)
	}
	return render(target, childLabel, path)
}

func renderMap(mp protoreflect.Map, path string) (any, error) {
	out := map[string]any{}
	var err error
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		key := k.String()
		out[key], err = render(v.Message().Interface(), key, join(path, key))
		return err == nil
	})
	return out, err
}

func renderList(l protoreflect.List, path string) (any, error) {
	out := make([]any, l.Len())
	for j := range out {
		v, err := render(l.Get(j).Message().Interface(), "", fmt.Sprintf("%s[%d]", path, j))
		if err != nil {
			return nil, err
		}
		out[j] = v
	}
	return out, nil
}

func isWellKnown(fd protoreflect.FieldDescriptor) bool {
	return fd.Message() != nil && fd.Message().ParentFile().Package() == "google.protobuf"
}

func orRoot(path string) string {
	if path == "" {
		return "block"
	}
	return path
}
