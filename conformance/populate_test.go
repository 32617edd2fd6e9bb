package conformance

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// populate fills every field of m with a value derived from seed, so that
// a wrong field number or type on either side changes what is decoded.
// Only one member of each oneof is set (which one rotates with seed), and
// nesting stops at depth 3 to keep recursive types finite.
func populate(m protoreflect.Message, seed, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if od.Fields().Get(seed%od.Fields().Len()) != fd {
				continue
			}
		}
		v := seed*31 + int(fd.Number())
		switch {
		case fd.IsMap():
			if depth >= 3 && fd.MapValue().Kind() == protoreflect.MessageKind {
				continue
			}
			mp := m.Mutable(fd).Map()
			for j := 0; j < 2; j++ {
				k := scalar(fd.MapKey(), v+j).MapKey()
				mp.Set(k, value(mp.NewValue, fd.MapValue(), v+j, depth))
			}
		case fd.IsList():
			if depth >= 3 && fd.Kind() == protoreflect.MessageKind {
				continue
			}
			l := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				l.Append(value(l.NewElement, fd, v+j, depth))
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			if depth >= 3 {
				continue
			}
			m.Set(fd, value(func() protoreflect.Value { return m.NewField(fd) }, fd, v, depth))
		default:
			m.Set(fd, scalar(fd, v))
		}
	}
}

func value(newMsg func() protoreflect.Value, fd protoreflect.FieldDescriptor, v, depth int) protoreflect.Value {
	if fd.Kind() == protoreflect.MessageKind {
		nv := newMsg()
		populate(nv.Message(), v, depth+1)
		return nv
	}
	return scalar(fd, v)
}

// scalar gives a non-default value of fd's kind; small integers keep
// 64-bit values exact in JavaScript numbers.
func scalar(fd protoreflect.FieldDescriptor, v int) protoreflect.Value {
	n := v%1000 + 1
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(n % vals.Len()).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(n) * 1000003)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(n) * 1000003)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(n) + 0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(n) + 0.25)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("s%d-%s", n, fd.Name()))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(fmt.Sprintf("b%d", n)))
	}
	panic("unhandled kind " + fd.Kind().String())
}

// jspbObject renders m the way google-protobuf's toObject() does, after
// the normalisation in node/roundtrip.js: every scalar field present with
// its default when unset, unset messages absent, repeated fields as
// "<name>List", maps as "<name>Map" arrays of [key, value] pairs, bytes as
// base64, enums and integers as numbers. Keys are compared in normalised
// form (see normKey), which sidesteps jspb's camel-casing rules.
func jspbObject(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		key := string(fd.Name())
		switch {
		case fd.IsMap():
			var pairs [][]any
			m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				pairs = append(pairs, []any{jsScalar(fd.MapKey(), k.Value()), jsValue(fd.MapValue(), v)})
				return true
			})
			sort.Slice(pairs, func(a, b int) bool { return fmt.Sprint(pairs[a][0]) < fmt.Sprint(pairs[b][0]) })
			if pairs == nil {
				pairs = [][]any{}
			}
			out[normKey(key)+"map"] = pairs
		case fd.IsList():
			l := m.Get(fd).List()
			items := make([]any, 0, l.Len())
			for j := 0; j < l.Len(); j++ {
				items = append(items, jsValue(fd, l.Get(j)))
			}
			out[normKey(key)+"list"] = items
		case fd.Kind() == protoreflect.MessageKind:
			if m.Has(fd) {
				out[normKey(key)] = jspbObject(m.Get(fd).Message())
			}
		default:
			// jspb leaves fields with explicit presence (oneof members)
			// undefined when unset, and fills in defaults for the rest.
			// Bytes are the exception: their _asB64 getter gives "".
			if fd.HasPresence() && !m.Has(fd) && fd.Kind() != protoreflect.BytesKind {
				continue
			}
			out[normKey(key)] = jsScalar(fd, m.Get(fd))
		}
	}
	return out
}

func jsValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	if fd.Kind() == protoreflect.MessageKind {
		return jspbObject(v.Message())
	}
	return jsScalar(fd, v)
}

func jsScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		return float64(v.Enum())
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return float64(v.Uint())
	default:
		return float64(v.Int())
	}
}

// normKey folds a field name the same way on both sides: lower case, no
// underscores, and without the "pb_" prefix jspb adds to reserved words.
func normKey(k string) string {
	k = strings.TrimPrefix(k, "pb_")
	return strings.ToLower(strings.ReplaceAll(k, "_", ""))
}

// normObject applies normKey to every key of a decoded JSON object.
func normObject(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[normKey(k)] = normObject(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = normObject(val)
		}
		return out
	}
	return v
}
