// Package contract turns the exported methods of a Go value into chaincode
// transaction functions, in the style of Fabric's contract APIs: the client
// names the method in the first argument and passes its parameters as
// strings; the result comes back JSON-encoded.
//
// A transaction function is an exported method whose first parameter is a
// Context, whose other parameters are strings, bools, integers, floats or
// JSON-decodable types (structs, pointers, slices, maps), and which returns
// either error or (T, error). Exported methods whose first parameter is not
// a Context are helpers and are not callable.
package contract

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"weft/chaincode/shim"
)

// Contract is a shim.Chaincode serving the transaction functions of one value.
type Contract struct {
	name string
	fns  map[string]*txFunc
}

var (
	contextType = reflect.TypeFor[Context]()
	errorType   = reflect.TypeFor[error]()
)

var _ shim.Chaincode = (*Contract)(nil)

// New registers the transaction functions of impl (usually a pointer to a
// struct). name is the contract name clients may prefix to function names
// ("name:Function"); it may be empty.
func New(name string, impl any) (*Contract, error) {
	if impl == nil {
		return nil, errors.New("contract: implementation is nil")
	}
	if strings.Contains(name, ":") {
		return nil, fmt.Errorf("contract name %q: must not contain ':'", name)
	}
	v := reflect.ValueOf(impl)
	c := &Contract{name: name, fns: map[string]*txFunc{}}
	for i := 0; i < v.NumMethod(); i++ {
		m := v.Type().Method(i)
		fn, err := newTxFunc(m.Name, v.Method(i))
		if err != nil {
			return nil, fmt.Errorf("contract %q: %w", name, err)
		}
		if fn != nil {
			c.fns[m.Name] = fn
		}
	}
	if len(c.fns) == 0 {
		return nil, fmt.Errorf("contract %q: %T has no exported method taking a contract.Context first", name, impl)
	}
	return c, nil
}

// Functions lists the transaction function names, sorted.
func (c *Contract) Functions() []string {
	out := make([]string, 0, len(c.fns))
	for n := range c.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// txFunc is one callable method.
type txFunc struct {
	name    string
	method  reflect.Value
	params  []paramDecoder
	types   []reflect.Type
	returns bool // (T, error) rather than error alone
}

// newTxFunc returns nil, nil for methods that are not transaction functions.
func newTxFunc(name string, method reflect.Value) (*txFunc, error) {
	t := method.Type()
	if t.NumIn() == 0 || t.In(0) != contextType {
		return nil, nil
	}
	if t.IsVariadic() {
		return nil, fmt.Errorf("function %s: variadic parameters are not supported", name)
	}
	f := &txFunc{name: name, method: method}
	for i := 1; i < t.NumIn(); i++ {
		d, err := decoderFor(t.In(i))
		if err != nil {
			return nil, fmt.Errorf("function %s: parameter %d: %w", name, i, err)
		}
		f.params = append(f.params, d)
		f.types = append(f.types, t.In(i))
	}
	switch {
	case t.NumOut() == 1 && t.Out(0) == errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType:
		if err := checkResultType(t.Out(0)); err != nil {
			return nil, fmt.Errorf("function %s: result: %w", name, err)
		}
		f.returns = true
	default:
		return nil, fmt.Errorf("function %s: must return error or (T, error), returns %s", name, outs(t))
	}
	return f, nil
}

func outs(t reflect.Type) string {
	var s []string
	for i := 0; i < t.NumOut(); i++ {
		s = append(s, t.Out(i).String())
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// signature describes the parameters for error messages: "(string, int)".
func (f *txFunc) signature() string {
	s := make([]string, len(f.types))
	for i, t := range f.types {
		s[i] = t.String()
	}
	return "(" + strings.Join(s, ", ") + ")"
}
