package endorsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/peer/endorser"
	"weft/wire/ledger/rwset"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// State is an in-memory committed state: namespace → key → value.
type State struct {
	mu   sync.Mutex
	data map[string]map[string][]byte
}

// NewState returns an empty state.
func NewState() *State { return &State{data: map[string]map[string][]byte{}} }

// Put sets a committed value.
func (s *State) Put(ns, key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data[ns] == nil {
		s.data[ns] = map[string][]byte{}
	}
	s.data[ns][key] = value
}

// Get reads a committed value (nil when absent).
func (s *State) Get(ns, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[ns][key], nil
}

// Simulator records reads and writes over a State, like txsim: reads see
// committed values only and writes are kept sorted in the results.
type Simulator struct {
	state  *State
	mu     sync.Mutex
	reads  map[string]map[string]bool
	writes map[string]map[string][]byte
	// Closed counts Done calls.
	Closed int
}

// NewSimulator starts a simulation over state.
func NewSimulator(state *State) *Simulator {
	return &Simulator{state: state, reads: map[string]map[string]bool{}, writes: map[string]map[string][]byte{}}
}

// GetState reads a committed value and records the read.
func (s *Simulator) GetState(ns, key string) ([]byte, error) {
	s.mu.Lock()
	if s.reads[ns] == nil {
		s.reads[ns] = map[string]bool{}
	}
	s.reads[ns][key] = true
	s.mu.Unlock()
	return s.state.Get(ns, key)
}

// PutState records a write.
func (s *Simulator) PutState(ns, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes[ns] == nil {
		s.writes[ns] = map[string][]byte{}
	}
	s.writes[ns][key] = value
	return nil
}

// Results builds the sorted read-write set.
func (s *Simulator) Results() (*rwset.TxReadWriteSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nss := map[string]bool{}
	for ns := range s.reads {
		nss[ns] = true
	}
	for ns := range s.writes {
		nss[ns] = true
	}
	names := make([]string, 0, len(nss))
	for ns := range nss {
		names = append(names, ns)
	}
	sort.Strings(names)
	out := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV}
	for _, ns := range names {
		kv := &kvrwset.KVRWSet{}
		for _, k := range sortedKeys(s.reads[ns]) {
			kv.Reads = append(kv.Reads, &kvrwset.KVRead{Key: k})
		}
		for _, k := range sortedKeys(s.writes[ns]) {
			v := s.writes[ns][k]
			kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: k, Value: v, IsDelete: len(v) == 0})
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(kv)
		if err != nil {
			return nil, err
		}
		out.NsRwset = append(out.NsRwset, &rwset.NsReadWriteSet{Namespace: ns, Rwset: b})
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Done marks the simulation finished.
func (s *Simulator) Done() {
	s.mu.Lock()
	s.Closed++
	s.mu.Unlock()
}

// Channel is a fake endorser.Channel.
type Channel struct {
	Config *channelconfig.Bundle
	State  *State
	mu     sync.Mutex
	txs    map[string]bool
	sims   []*Simulator
	// SimErr makes NewSimulator fail.
	SimErr error
}

// NewChannel returns a channel with the given config and an empty state.
func NewChannel(b *channelconfig.Bundle) *Channel {
	return &Channel{Config: b, State: NewState(), txs: map[string]bool{}}
}

// Bundle returns the config.
func (c *Channel) Bundle() *channelconfig.Bundle { return c.Config }

// AddTx marks txID as committed.
func (c *Channel) AddTx(txID string) {
	c.mu.Lock()
	c.txs[txID] = true
	c.mu.Unlock()
}

// TxExists reports committed tx ids.
func (c *Channel) TxExists(txID string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txs[txID], nil
}

// NewSimulator returns a Simulator over State.
func (c *Channel) NewSimulator(string) (endorser.Simulator, error) {
	if c.SimErr != nil {
		return nil, c.SimErr
	}
	s := NewSimulator(c.State)
	c.mu.Lock()
	c.sims = append(c.sims, s)
	c.mu.Unlock()
	return s, nil
}

// Simulators lists the simulators handed out.
func (c *Channel) Simulators() []*Simulator {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Simulator(nil), c.sims...)
}

// CommittedState reads State.
func (c *Channel) CommittedState(ns, key string) ([]byte, error) { return c.State.Get(ns, key) }

// Channels is a fake endorser.ChannelSource.
type Channels map[string]endorser.Channel

// Channel looks id up.
func (c Channels) Channel(id string) (endorser.Channel, bool) {
	ch, ok := c[id]
	return ch, ok
}

// Lifecycle keeps definitions as JSON under "definitions/<name>" and
// approvals as the package id under "approvals/<name>/<seq>/<msp>" in the
// _lifecycle namespace.
type Lifecycle struct{}

// DefineChaincode commits a definition and an approval into state.
func DefineChaincode(state *State, def endorser.Definition, approvals map[string]string) {
	b, _ := json.Marshal(def)
	state.Put("_lifecycle", "definitions/"+def.Name, b)
	for mspID, pkg := range approvals {
		state.Put("_lifecycle", fmt.Sprintf("approvals/%s/%d/%s", def.Name, def.Sequence, mspID), []byte(pkg))
	}
}

// Definition reads a definition.
func (Lifecycle) Definition(get endorser.StateGetter, name string) (*endorser.Definition, bool, error) {
	b, err := get("_lifecycle", "definitions/"+name)
	if err != nil || b == nil {
		return nil, false, err
	}
	d := &endorser.Definition{}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, false, err
	}
	return d, true, nil
}

// ApprovedPackageID reads an approval.
func (Lifecycle) ApprovedPackageID(get endorser.StateGetter, name string, seq int64, mspID string) (string, bool, error) {
	b, err := get("_lifecycle", fmt.Sprintf("approvals/%s/%d/%s", name, seq, mspID))
	if err != nil || b == nil {
		return "", false, err
	}
	return string(b), true, nil
}

// ExecFunc is a fake chaincode: it gets the package id, the context and the
// input.
type ExecFunc func(ctx context.Context, pkgID string, tx *endorser.TxContext, in *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error)

// Execute calls f.
func (f ExecFunc) Execute(ctx context.Context, pkgID string, tx *endorser.TxContext, in *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error) {
	return f(ctx, pkgID, tx, in, isInit)
}

// KVChaincode is a tiny chaincode: "put k v", "get k", "fail msg" (status
// 500), "reject msg" (status 400), "crash" (execution error), "event name",
// "call cc arg..." (chaincode-to-chaincode).
func KVChaincode(ctx context.Context, pkgID string, tx *endorser.TxContext, in *peer.ChaincodeInput, isInit bool) (*peer.Response, *peer.ChaincodeEvent, error) {
	ns := strings.SplitN(pkgID, ":", 2)[0]
	args := in.Args
	if len(args) == 0 {
		return &peer.Response{Status: 200, Message: "no args"}, nil, nil
	}
	arg := func(i int) string {
		if i < len(args) {
			return string(args[i])
		}
		return ""
	}
	switch arg(0) {
	case "put":
		if err := tx.Simulator().PutState(ns, arg(1), []byte(arg(2))); err != nil {
			return nil, nil, err
		}
		return &peer.Response{Status: 200, Payload: []byte("ok")}, nil, nil
	case "get":
		v, err := tx.Simulator().GetState(ns, arg(1))
		if err != nil {
			return nil, nil, err
		}
		return &peer.Response{Status: 200, Payload: v}, nil, nil
	case "fail":
		return &peer.Response{Status: 500, Message: arg(1)}, nil, nil
	case "reject":
		return &peer.Response{Status: 400, Message: arg(1)}, nil, nil
	case "crash":
		return nil, nil, errors.New("chaincode stream terminated")
	case "event":
		return &peer.Response{Status: 200}, &peer.ChaincodeEvent{EventName: arg(1), Payload: []byte("evt")}, nil
	case "init":
		return &peer.Response{Status: 200, Payload: []byte(fmt.Sprint(isInit))}, nil, nil
	case "call":
		res, err := tx.InvokeChaincode(ctx, arg(1), args[2:], "")
		if err != nil {
			return &peer.Response{Status: 500, Message: err.Error()}, nil, nil
		}
		return res, nil, nil
	}
	return &peer.Response{Status: 400, Message: "unknown function " + arg(0)}, nil, nil
}
