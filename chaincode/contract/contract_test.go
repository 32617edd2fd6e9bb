package contract

import (
	"errors"
	"strings"
	"testing"

	"weft/chaincode/shim"
	pb "weft/wire/peer"
)

// fakeStub answers the few Stub calls the contract layer makes itself;
// anything else would panic on the nil embedded interface.
type fakeStub struct {
	shim.Stub
	args      []string
	eventName string
	event     []byte
}

func (s *fakeStub) GetArgs() [][]byte {
	out := make([][]byte, len(s.args))
	for i, a := range s.args {
		out[i] = []byte(a)
	}
	return out
}

func (s *fakeStub) GetFunctionAndParameters() (string, []string) {
	if len(s.args) == 0 {
		return "", nil
	}
	return s.args[0], s.args[1:]
}

func (s *fakeStub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name is empty")
	}
	s.eventName, s.event = name, payload
	return nil
}

type point struct {
	X, Y int
}

type sample struct{ calls int }

func (s *sample) Echo(ctx Context, a string) (string, error)   { return a, nil }
func (s *sample) Add(ctx Context, a, b int) (int, error)       { return a + b, nil }
func (s *sample) Small(ctx Context, a int8) (int8, error)      { return a, nil }
func (s *sample) Count(ctx Context, n uint16) (uint16, error)  { return n, nil }
func (s *sample) Half(ctx Context, f float64) (float64, error) { return f / 2, nil }
func (s *sample) Not(ctx Context, b bool) (bool, error)        { return !b, nil }
func (s *sample) Move(ctx Context, p point, d *point) (point, error) {
	return point{p.X + d.X, p.Y + d.Y}, nil
}
func (s *sample) Sum(ctx Context, xs []int) (map[string]int, error) {
	t := 0
	for _, x := range xs {
		t += x
	}
	return map[string]int{"sum": t}, nil
}
func (s *sample) None(ctx Context) ([]point, error)   { return nil, nil }
func (s *sample) Nothing(ctx Context) (*point, error) { return nil, nil }
func (s *sample) Raw(ctx Context) ([]byte, error)     { return []byte{1, 2}, nil }
func (s *sample) Fail(ctx Context, msg string) error  { return errors.New(msg) }
func (s *sample) FailWithValue(ctx Context) (int, error) {
	return 7, errors.New("failed after all")
}
func (s *sample) Crash(ctx Context) error {
	var p *point
	_ = p.X
	return nil
}
func (s *sample) Touch(ctx Context) error {
	s.calls++
	return ctx.SetEvent("Touched", map[string]int{"calls": s.calls})
}
func (s *sample) BadEvent(ctx Context) error { return ctx.SetEvent("", "x") }
func (s *sample) StubArgs(ctx Context) (int, error) {
	return len(ctx.Stub().GetArgs()), nil
}

// Helper is not a transaction function: its first parameter is no Context.
func (s *sample) Helper(a string) string { return a }

func invoke(t *testing.T, c *Contract, args ...string) (*pb.Response, *fakeStub) {
	t.Helper()
	st := &fakeStub{args: args}
	return c.Invoke(st), st
}

func TestInvoke(t *testing.T) {
	c, err := New("sample", &sample{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"Echo", "hello world"}, "hello world"},
		{[]string{"Echo", ""}, ""},
		{[]string{"sample:Echo", "named"}, "named"},
		{[]string{"Add", "2", "-5"}, "-3"},
		{[]string{"Small", "-128"}, "-128"},
		{[]string{"Count", "65535"}, "65535"},
		{[]string{"Half", "1.5"}, "0.75"},
		{[]string{"Not", "true"}, "false"},
		{[]string{"Move", `{"X":1,"Y":2}`, `{"X":10}`}, `{"X":11,"Y":2}`},
		{[]string{"Sum", `[1,2,3]`}, `{"sum":6}`},
		{[]string{"None"}, `[]`},
		{[]string{"Nothing"}, ``},
		{[]string{"Raw"}, "\x01\x02"},
		{[]string{"StubArgs"}, "1"},
	}
	for _, tc := range cases {
		resp, _ := invoke(t, c, tc.args...)
		if resp.GetStatus() != 200 || string(resp.GetPayload()) != tc.want {
			t.Errorf("%q: status %d payload %q message %q, want %q", tc.args, resp.GetStatus(), resp.GetPayload(), resp.GetMessage(), tc.want)
		}
	}
}

func TestInvokeErrors(t *testing.T) {
	c, err := New("sample", &sample{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no function name given; functions of this contract: Add, BadEvent,"},
		{[]string{"Nope"}, `function "Nope" not found in contract "sample"`},
		{[]string{"Helper", "x"}, `function "Helper" not found`},
		{[]string{"other:Echo", "x"}, `contract "other" not found`},
		{[]string{"Echo"}, "Echo: expected 1 arguments (string), got 0"},
		{[]string{"Add", "1", "2", "3"}, "Add: expected 2 arguments (int, int), got 3"},
		{[]string{"Add", "1", "two"}, `Add: argument 2: "two" is not an integer that fits int`},
		{[]string{"Small", "128"}, `"128" is not an integer that fits int8`},
		{[]string{"Count", "-1"}, `"-1" is not a non-negative integer that fits uint16`},
		{[]string{"Half", "half"}, `"half" is not a float64`},
		{[]string{"Not", "yes"}, `"yes" is not a bool`},
		{[]string{"Move", `{"X":1`, `{}`}, "Move: argument 1: "},
		{[]string{"Move", `{"X":1,"Z":2}`, `{}`}, `unknown field "Z"`},
		{[]string{"Move", `{"X":1} {}`, `{}`}, "data after the JSON value"},
		{[]string{"Sum", `["a"]`}, "is not JSON for []int"},
		{[]string{"Fail", "custom"}, "custom"},
		{[]string{"FailWithValue"}, "failed after all"},
		{[]string{"Crash"}, "Crash: panicked: runtime error"},
		{[]string{"BadEvent"}, "event name is empty"},
	}
	for _, tc := range cases {
		resp, _ := invoke(t, c, tc.args...)
		if resp.GetStatus() != 500 || !strings.Contains(resp.GetMessage(), tc.want) || len(resp.GetPayload()) != 0 {
			t.Errorf("%q: status %d message %q payload %q, want 500 with %q", tc.args, resp.GetStatus(), resp.GetMessage(), resp.GetPayload(), tc.want)
		}
	}
}

func TestEventsAndInit(t *testing.T) {
	s := &sample{}
	c, err := New("", s)
	if err != nil {
		t.Fatal(err)
	}
	resp, st := invoke(t, c, "Touch")
	if resp.GetStatus() != 200 || st.eventName != "Touched" || string(st.event) != `{"calls":1}` {
		t.Errorf("Touch: %v event %q %q", resp, st.eventName, st.event)
	}
	// With no contract name, only unprefixed names and ":name" match.
	if resp, _ := invoke(t, c, "sample:Echo", "x"); resp.GetStatus() != 500 {
		t.Errorf("prefixed call on an unnamed contract: %v", resp)
	}
	if resp, _ := invoke(t, c, ":Echo", "x"); string(resp.GetPayload()) != "x" {
		t.Errorf("empty prefix: %v", resp)
	}
	if resp := c.Init(&fakeStub{}); resp.GetStatus() != 200 {
		t.Errorf("Init without arguments: %v", resp)
	}
	if resp := c.Init(&fakeStub{args: []string{"Touch"}}); resp.GetStatus() != 200 || s.calls != 2 {
		t.Errorf("Init Touch: %v calls %d", resp, s.calls)
	}
	if resp := c.Init(&fakeStub{args: []string{"Nope"}}); resp.GetStatus() != 500 {
		t.Errorf("Init of an unknown function: %v", resp)
	}
}

type noFuncs struct{}

func (noFuncs) Helper() {}

type badParam struct{}

func (badParam) F(ctx Context, c chan int) error { return nil }

type badReturn struct{}

func (badReturn) F(ctx Context) int { return 0 }

type badResult struct{}

func (badResult) F(ctx Context) (func(), error) { return nil, nil }

type twoErrors struct{}

func (twoErrors) F(ctx Context) (error, error) { return nil, nil }

type variadic struct{}

func (variadic) F(ctx Context, xs ...string) error { return nil }

type twoContexts struct{}

func (twoContexts) F(ctx Context, other Context) error { return nil }

type valueOnly struct{}

func (*valueOnly) F(ctx Context) error { return nil }

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name string
		impl any
		cn   string
		want string
	}{
		{"nil", nil, "", "implementation is nil"},
		{"colon in name", &sample{}, "a:b", "must not contain ':'"},
		{"no functions", noFuncs{}, "", "has no exported method"},
		{"pointer methods on a value", valueOnly{}, "", "has no exported method"},
		{"chan parameter", badParam{}, "", "function F: parameter 1: type chan int is not supported"},
		{"no error", badReturn{}, "", "must return error or (T, error), returns (int)"},
		{"func result", badResult{}, "", "cannot be encoded as JSON"},
		{"variadic", variadic{}, "", "variadic"},
		{"two contexts", twoContexts{}, "", "second contract.Context"},
	}
	for _, c := range cases {
		_, err := New(c.cn, c.impl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// (error, error) is odd but well-formed: the first is a JSON result.
	if _, err := New("", twoErrors{}); err != nil {
		t.Errorf("(error, error): %v", err)
	}
	c, err := New("", &sample{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Functions(), ","); strings.Contains(got, "Helper") || !strings.Contains(got, "Add,BadEvent,Count") {
		t.Errorf("functions %s", got)
	}
}
