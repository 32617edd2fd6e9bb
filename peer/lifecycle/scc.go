package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/ledger/statedb"
	"weft/msp"
	"weft/peer/txsim"
	"weft/wire/peer"
)

// SysStub is what the endorser hands a system chaincode for one invocation.
type SysStub interface {
	// Args are ChaincodeInput.args: function name, marshaled <Function>Args.
	Args() [][]byte
	// Simulator is nil for proposals without a channel.
	Simulator() *txsim.Simulator
	ChannelID() string
	// Creator is the proposal's creator, already validated by the endorser.
	Creator() *msp.Identity
	// LocalMSPID is the MSP ID of this peer's organisation.
	LocalMSPID() string
	// Bundle is the channel's current config (nil without a channel).
	Bundle() *channelconfig.Bundle
}

// StateReader is read access to one channel's committed state; *statedb.DB
// implements it.
type StateReader interface {
	Get(ns, key string) (*statedb.VersionedValue, error)
	GetRange(ns, startKey, endKey string) (statedb.Iterator, error)
}

// Options configure an SCC.
type Options struct {
	// Store holds the installed packages (required).
	Store *Store
	// IsLocalAdmin decides whether id administers this peer (Fabric: the
	// local MSP's Admins policy). Nil denies every admin-only function.
	IsLocalAdmin func(id *msp.Identity) bool
	// ChannelStates lists the joined channels' committed states; installed
	// package queries use it to report which chaincodes use a package.
	// Nil means no references are reported.
	ChannelStates func() map[string]StateReader
}

// SCC is the _lifecycle system chaincode of one peer.
type SCC struct {
	opts Options
}

// New returns the _lifecycle system chaincode.
func New(opts Options) (*SCC, error) {
	if opts.Store == nil {
		return nil, errors.New("lifecycle: Options.Store is required")
	}
	return &SCC{opts: opts}, nil
}

// Store returns the package store the SCC installs into.
func (s *SCC) Store() *Store { return s.opts.Store }

// errNotFound marks errors Fabric reports with status 404 (an undefined
// namespace, a missing install package).
type errNotFound struct{ msg string }

func (e errNotFound) Error() string { return e.msg }

func notFound(format string, args ...any) error { return errNotFound{fmt.Sprintf(format, args...)} }

// call is one invocation.
type call struct {
	scc  *SCC
	stub SysStub
	sim  *txsim.Simulator
	ch   string
	cfg  *channelconfig.Bundle
	msp  string
}

type function struct {
	admin   bool // creator must be a local MSP admin
	channel bool // needs a channel (simulator and config)
	run     func(c *call, arg []byte) (proto.Message, error)
}

// handler adapts a typed implementation to the dispatch table.
func handler[A any, PA interface {
	*A
	proto.Message
}](fn func(c *call, in PA) (proto.Message, error)) func(*call, []byte) (proto.Message, error) {
	return func(c *call, arg []byte) (proto.Message, error) {
		in := PA(new(A))
		if err := proto.Unmarshal(arg, in); err != nil {
			return nil, fmt.Errorf("argument 1: not a marshaled %s: %w", in.ProtoReflect().Descriptor().FullName(), err)
		}
		return fn(c, in)
	}
}

var functions = map[string]function{
	"InstallChaincode":                   {admin: true, run: handler((*call).installChaincode)},
	"QueryInstalledChaincode":            {admin: true, run: handler((*call).queryInstalledChaincode)},
	"QueryInstalledChaincodes":           {admin: true, run: handler((*call).queryInstalledChaincodes)},
	"GetInstalledChaincodePackage":       {admin: true, run: handler((*call).getInstalledChaincodePackage)},
	"ApproveChaincodeDefinitionForMyOrg": {admin: true, channel: true, run: handler((*call).approve)},
	"QueryApprovedChaincodeDefinition":   {admin: true, channel: true, run: handler((*call).queryApproved)},
	"QueryApprovedChaincodeDefinitions":  {admin: true, channel: true, run: handler((*call).queryApprovedAll)},
	"CheckCommitReadiness":               {channel: true, run: handler((*call).checkCommitReadiness)},
	"CommitChaincodeDefinition":          {channel: true, run: handler((*call).commit)},
	"QueryChaincodeDefinition":           {channel: true, run: handler((*call).queryDefinition)},
	"QueryChaincodeDefinitions":          {channel: true, run: handler((*call).queryDefinitions)},
}

// Invoke runs one _lifecycle function. Failures become a Response with
// status 500 (404 for an undefined chaincode or unknown package, as Fabric)
// and a message saying what was wrong.
func (s *SCC) Invoke(ctx context.Context, stub SysStub) *peer.Response {
	args := stub.Args()
	if len(args) == 0 {
		return errResponse(500, "lifecycle scc must be invoked with arguments")
	}
	if len(args) != 2 {
		return errResponse(500, fmt.Sprintf("lifecycle scc operations require exactly two arguments but received %d", len(args)))
	}
	name := string(args[0])
	fn, ok := functions[name]
	if !ok {
		return errResponse(500, fmt.Sprintf("unknown function '%s' of _lifecycle", name))
	}
	c := &call{scc: s, stub: stub, ch: stub.ChannelID(), msp: stub.LocalMSPID()}
	if c.ch != "" {
		c.cfg = stub.Bundle()
		if c.cfg == nil {
			return errResponse(500, fmt.Sprintf("could not get channelconfig for channel '%s'", c.ch))
		}
		if !c.cfg.HasApplication() {
			return errResponse(500, fmt.Sprintf("could not get application config for channel '%s'", c.ch))
		}
		caps := c.cfg.ApplicationCapabilities()
		if !caps.Has("V2_0") && !caps.Has("V2_5") {
			return errResponse(500, fmt.Sprintf("cannot use new lifecycle for channel '%s' as it does not have the required capabilities enabled", c.ch))
		}
		c.sim = stub.Simulator()
	}
	if fn.channel && (c.ch == "" || c.sim == nil) {
		return errResponse(500, fmt.Sprintf("function '%s' must be invoked on a channel", name))
	}
	if fn.admin {
		id := stub.Creator()
		if id == nil || s.opts.IsLocalAdmin == nil || !s.opts.IsLocalAdmin(id) {
			who := "<none>"
			if id != nil {
				who = id.String()
			}
			return errResponse(500, fmt.Sprintf("Failed to authorize invocation due to failed ACL check: creator %s is not an admin of the local MSP %s (required for '%s')", who, c.msp, name))
		}
	}
	out, err := fn.run(c, args[1])
	if err != nil {
		var nf errNotFound
		if errors.As(err, &nf) {
			return errResponse(404, err.Error())
		}
		return errResponse(500, fmt.Sprintf("failed to invoke backing implementation of '%s': %s", name, err))
	}
	payload, err := marshalOpts.Marshal(out)
	if err != nil {
		return errResponse(500, fmt.Sprintf("%s: marshaling result: %s", name, err))
	}
	return &peer.Response{Status: 200, Payload: payload}
}

func errResponse(status int32, msg string) *peer.Response {
	return &peer.Response{Status: status, Message: msg}
}

// get reads through the simulator so the reads land in the read set.
func (c *call) get(ns, key string) ([]byte, error) { return c.sim.GetState(ns, key) }

// scan returns the keys and values under prefix in key order.
func scan(rangeFn func(ns, start, end string) (statedb.Iterator, error), prefix string) ([]*statedb.KV, error) {
	// '/' + 1 == '0': the end of the prefix range.
	end := prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
	it, err := rangeFn(Namespace, prefix, end)
	if err != nil {
		return nil, fmt.Errorf("scanning %q: %w", prefix, err)
	}
	defer it.Close()
	var out []*statedb.KV
	for {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("scanning %q: %w", prefix, err)
		}
		if kv == nil {
			return out, nil
		}
		out = append(out, kv)
	}
}

// appOrgs are the MSP IDs of the channel's application organisations.
func (c *call) appOrgs() []string {
	var ids []string
	for _, o := range c.cfg.ApplicationOrgs() {
		ids = append(ids, o.MSPID)
	}
	return ids
}
