package contract

import (
	"fmt"
	"reflect"
	"strings"

	"weft/chaincode/shim"
	pb "weft/wire/peer"
)

// Context is what a transaction function gets besides its parameters.
type Context interface {
	// Stub gives access to state, queries and transaction data.
	Stub() shim.Stub
	// SetEvent attaches an event to the transaction: payload []byte and
	// string are sent as they are, anything else as JSON.
	SetEvent(name string, payload any) error
}

type txContext struct{ stub shim.Stub }

func (c *txContext) Stub() shim.Stub { return c.stub }

func (c *txContext) SetEvent(name string, payload any) error {
	b, err := encodeEvent(payload)
	if err != nil {
		return fmt.Errorf("event %q: payload: %w", name, err)
	}
	return c.stub.SetEvent(name, b)
}

// Init serves INIT transactions: with arguments it calls the function they
// name, without any it just succeeds.
func (c *Contract) Init(stub shim.Stub) *pb.Response {
	if len(stub.GetArgs()) == 0 {
		return shim.Success(nil)
	}
	return c.Invoke(stub)
}

// Invoke calls the function named by the first argument.
func (c *Contract) Invoke(stub shim.Stub) *pb.Response {
	name, args := stub.GetFunctionAndParameters()
	if name == "" {
		return shim.Error(fmt.Sprintf("no function name given; functions of this contract: %s", strings.Join(c.Functions(), ", ")))
	}
	if contractName, fn, ok := strings.Cut(name, ":"); ok {
		if contractName != c.name {
			return shim.Error(fmt.Sprintf("contract %q not found (function %q)", contractName, name))
		}
		name = fn
	}
	f, ok := c.fns[name]
	if !ok {
		return shim.Error(fmt.Sprintf("function %q not found in contract %q", name, c.name))
	}
	payload, err := f.call(&txContext{stub: stub}, args)
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(payload)
}

func (f *txFunc) call(ctx Context, args []string) (payload []byte, err error) {
	if len(args) != len(f.params) {
		return nil, fmt.Errorf("%s: expected %d arguments %s, got %d", f.name, len(f.params), f.signature(), len(args))
	}
	in := make([]reflect.Value, 0, len(args)+1)
	in = append(in, reflect.ValueOf(&ctx).Elem())
	for i, a := range args {
		v, err := f.params[i](a)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %d: %w", f.name, i+1, err)
		}
		in = append(in, v)
	}
	defer func() {
		if p := recover(); p != nil {
			payload, err = nil, fmt.Errorf("%s: panicked: %v", f.name, p)
		}
	}()
	out := f.method.Call(in)
	if e := out[len(out)-1]; !e.IsNil() {
		return nil, e.Interface().(error)
	}
	if !f.returns {
		return nil, nil
	}
	payload, err = encodeResult(out[0])
	if err != nil {
		return nil, fmt.Errorf("%s: encode result: %w", f.name, err)
	}
	return payload, nil
}
