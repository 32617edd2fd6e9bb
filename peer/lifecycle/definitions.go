package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"

	lb "weft/wire/peer/lifecycle"
)

func (c *call) committedSequence(name string) (int64, *lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition, error) {
	d, err := readDefinition(c.get, name)
	if err != nil {
		return 0, nil, fmt.Errorf("could not get current sequence: %w", err)
	}
	if d == nil {
		return 0, nil, nil
	}
	return d.Sequence, d, nil
}

func (c *call) localOrgIsMember() error {
	if !slices.Contains(c.appOrgs(), c.msp) {
		return fmt.Errorf("this peer's org %s is not an application org of channel '%s'", c.msp, c.ch)
	}
	return nil
}

func (c *call) approve(in *lb.ApproveChaincodeDefinitionForMyOrgArgs) (proto.Message, error) {
	if err := validateNameVersion(in.Name, in.Version); err != nil {
		return nil, fmt.Errorf("error validating chaincode definition: %w", err)
	}
	if err := c.localOrgIsMember(); err != nil {
		return nil, err
	}
	cur, def, err := c.committedSequence(in.Name)
	if err != nil {
		return nil, err
	}
	req := in.Sequence
	switch {
	case req == 0 && cur == 0:
		return nil, errors.New("requested sequence is 0, but first definable sequence number is 1")
	case req < cur:
		return nil, fmt.Errorf("currently defined sequence %d is larger than requested sequence %d", cur, req)
	case req > cur+1:
		return nil, fmt.Errorf("requested sequence %d is larger than the next available sequence number %d", req, cur+1)
	}
	p := approvalParams(in)
	if err := prepareParams(p, c.cfg); err != nil {
		return nil, fmt.Errorf("sequence %d: %w", req, err)
	}
	if req == cur {
		// Only the package may change when re-approving the committed sequence.
		if err := definitionParams(def).diff(p); err != nil {
			return nil, fmt.Errorf("attempted to redefine the current committed sequence (%d) for namespace %s with different parameters: %w", cur, in.Name, err)
		}
	}
	pkgID := approvedPackage(in)
	prev, err := readApproval(c.get, in.Name, req, c.msp)
	if err != nil {
		return nil, err
	}
	if prev != nil && approvalParams(prev).diff(p) == nil && approvedPackage(prev) == pkgID {
		if req == cur {
			return nil, fmt.Errorf("attempted to redefine the current committed sequence (%d) for namespace %s", cur, in.Name)
		}
		return nil, fmt.Errorf("attempted to redefine uncommitted sequence (%d) for namespace %s with unchanged content", req, in.Name)
	}
	rec := &lb.ApproveChaincodeDefinitionForMyOrgArgs{
		Sequence:            req,
		Name:                in.Name,
		Version:             p.Version,
		EndorsementPlugin:   p.EndorsementPlugin,
		ValidationPlugin:    p.ValidationPlugin,
		ValidationParameter: p.ValidationParameter,
		InitRequired:        p.InitRequired,
		Source:              sourceOf(pkgID),
	}
	b, err := marshalOpts.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("marshaling approval: %w", err)
	}
	if err := c.sim.PutState(Namespace, ApprovalKey(in.Name, req, c.msp), b); err != nil {
		return nil, fmt.Errorf("writing approval: %w", err)
	}
	return &lb.ApproveChaincodeDefinitionForMyOrgResult{}, nil
}

func sourceOf(pkgID string) *lb.ChaincodeSource {
	if pkgID == "" {
		return &lb.ChaincodeSource{Type: &lb.ChaincodeSource_Unavailable_{Unavailable: &lb.ChaincodeSource_Unavailable{}}}
	}
	return &lb.ChaincodeSource{Type: &lb.ChaincodeSource_LocalPackage{LocalPackage: &lb.ChaincodeSource_Local{PackageId: pkgID}}}
}

func (c *call) queryApproved(in *lb.QueryApprovedChaincodeDefinitionArgs) (proto.Message, error) {
	if in.Name == "" {
		return nil, errors.New("name: empty")
	}
	if in.Sequence < 0 {
		return nil, fmt.Errorf("sequence: %d is negative", in.Sequence)
	}
	seq := in.Sequence
	if seq == 0 {
		// The newest relevant approval: for the next sequence when there is
		// one, else for the committed one.
		cur, _, err := c.committedSequence(in.Name)
		if err != nil {
			return nil, err
		}
		seq = cur
		next, err := readApproval(c.get, in.Name, cur+1, c.msp)
		if err != nil {
			return nil, err
		}
		if next != nil {
			seq = cur + 1
		}
	}
	var a *lb.ApproveChaincodeDefinitionForMyOrgArgs
	if seq > 0 {
		var err error
		if a, err = readApproval(c.get, in.Name, seq, c.msp); err != nil {
			return nil, err
		}
	}
	if a == nil {
		return nil, fmt.Errorf("could not fetch approved chaincode definition (name: '%s', sequence: '%d') on channel '%s'", in.Name, seq, c.ch)
	}
	return &lb.QueryApprovedChaincodeDefinitionResult{
		Sequence:            seq,
		Version:             a.Version,
		EndorsementPlugin:   a.EndorsementPlugin,
		ValidationPlugin:    a.ValidationPlugin,
		ValidationParameter: a.ValidationParameter,
		InitRequired:        a.InitRequired,
		Collections:         a.Collections,
		Source:              sourceOf(approvedPackage(a)),
	}, nil
}

func (c *call) queryApprovedAll(*lb.QueryApprovedChaincodeDefinitionsArgs) (proto.Message, error) {
	kvs, err := scan(c.sim.GetStateRange, approvalsPrefix)
	if err != nil {
		return nil, err
	}
	out := &lb.QueryApprovedChaincodeDefinitionsResult{}
	for _, kv := range kvs {
		name, seq, mspID, ok := parseApprovalKey(kv.Key)
		if !ok || mspID != c.msp {
			continue
		}
		a := &lb.ApproveChaincodeDefinitionForMyOrgArgs{}
		if err := proto.Unmarshal(kv.Value, a); err != nil {
			return nil, fmt.Errorf("approval %q: %w", kv.Key, err)
		}
		out.ApprovedChaincodeDefinitions = append(out.ApprovedChaincodeDefinitions, &lb.QueryApprovedChaincodeDefinitionsResult_ApprovedChaincodeDefinition{
			Name:                name,
			Sequence:            seq,
			Version:             a.Version,
			EndorsementPlugin:   a.EndorsementPlugin,
			ValidationPlugin:    a.ValidationPlugin,
			ValidationParameter: a.ValidationParameter,
			InitRequired:        a.InitRequired,
			Collections:         a.Collections,
			Source:              sourceOf(approvedPackage(a)),
		})
	}
	// Keys sort sequences as text ("10" < "2"); order numerically.
	sort.SliceStable(out.ApprovedChaincodeDefinitions, func(i, j int) bool {
		a, b := out.ApprovedChaincodeDefinitions[i], out.ApprovedChaincodeDefinitions[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Sequence < b.Sequence
	})
	return out, nil
}

// orgApprovals compares every application org's approval of name at seq
// with p. An org without an approval mismatches on the whole parameter set,
// which Fabric reports as "ChaincodeParameters".
func (c *call) orgApprovals(name string, seq int64, p *params) (map[string]bool, map[string][]string, error) {
	approvals := map[string]bool{}
	mismatches := map[string][]string{}
	for _, org := range c.appOrgs() {
		a, err := readApproval(c.get, name, seq, org)
		if err != nil {
			return nil, nil, err
		}
		if a == nil {
			approvals[org] = false
			mismatches[org] = []string{"ChaincodeParameters"}
			continue
		}
		m := approvalParams(a).mismatches(p)
		approvals[org] = len(m) == 0
		if len(m) > 0 {
			mismatches[org] = m
		}
	}
	return approvals, mismatches, nil
}

// readiness is CheckCommitReadiness without the result message.
func (c *call) readiness(name string, p *params, seq int64) (map[string]bool, map[string][]string, error) {
	cur, _, err := c.committedSequence(name)
	if err != nil {
		return nil, nil, err
	}
	if seq != cur+1 {
		return nil, nil, fmt.Errorf("requested sequence is %d, but new definition must be sequence %d", seq, cur+1)
	}
	if err := prepareParams(p, c.cfg); err != nil {
		return nil, nil, fmt.Errorf("could not set defaults for chaincode definition in channel %s: %w", c.ch, err)
	}
	return c.orgApprovals(name, seq, p)
}

func (c *call) checkCommitReadiness(in *lb.CheckCommitReadinessArgs) (proto.Message, error) {
	if in.Name == "" {
		return nil, errors.New("name: empty")
	}
	p := &params{in.Version, in.EndorsementPlugin, in.ValidationPlugin, in.ValidationParameter, in.InitRequired, in.Collections}
	approvals, mismatches, err := c.readiness(in.Name, p, in.Sequence)
	if err != nil {
		return nil, err
	}
	out := &lb.CheckCommitReadinessResult{Approvals: approvals, Mismatches: map[string]*lb.CheckCommitReadinessResult_Mismatches{}}
	for org, items := range mismatches {
		out.Mismatches[org] = &lb.CheckCommitReadinessResult_Mismatches{Items: items}
	}
	return out, nil
}

// commit writes the definition. Whether enough orgs agree is decided by the
// validator (LifecycleEndorsement policy over the endorsements); like Fabric,
// each endorsing peer only refuses to endorse a definition its own org has
// not approved.
func (c *call) commit(in *lb.CommitChaincodeDefinitionArgs) (proto.Message, error) {
	if err := validateNameVersion(in.Name, in.Version); err != nil {
		return nil, fmt.Errorf("error validating chaincode definition: %w", err)
	}
	if err := c.localOrgIsMember(); err != nil {
		return nil, err
	}
	p := &params{in.Version, in.EndorsementPlugin, in.ValidationPlugin, in.ValidationParameter, in.InitRequired, in.Collections}
	approvals, _, err := c.readiness(in.Name, p, in.Sequence)
	if err != nil {
		return nil, err
	}
	if !approvals[c.msp] {
		return nil, fmt.Errorf("chaincode definition not agreed to by this org (%s)", c.msp)
	}
	def := &lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{
		Name:                in.Name,
		Sequence:            in.Sequence,
		Version:             p.Version,
		EndorsementPlugin:   p.EndorsementPlugin,
		ValidationPlugin:    p.ValidationPlugin,
		ValidationParameter: p.ValidationParameter,
		InitRequired:        p.InitRequired,
	}
	b, err := marshalOpts.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("marshaling definition: %w", err)
	}
	if err := c.sim.PutState(Namespace, DefinitionKey(in.Name), b); err != nil {
		return nil, fmt.Errorf("writing definition: %w", err)
	}
	return &lb.CommitChaincodeDefinitionResult{}, nil
}

func (c *call) queryDefinition(in *lb.QueryChaincodeDefinitionArgs) (proto.Message, error) {
	if in.Name == "" {
		return nil, errors.New("name: empty")
	}
	d, err := readDefinition(c.get, in.Name)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("namespace %s is not defined", in.Name)
	}
	approvals, _, err := c.orgApprovals(in.Name, d.Sequence, definitionParams(d))
	if err != nil {
		return nil, err
	}
	return &lb.QueryChaincodeDefinitionResult{
		Sequence:            d.Sequence,
		Version:             d.Version,
		EndorsementPlugin:   d.EndorsementPlugin,
		ValidationPlugin:    d.ValidationPlugin,
		ValidationParameter: d.ValidationParameter,
		Collections:         d.Collections,
		InitRequired:        d.InitRequired,
		Approvals:           approvals,
	}, nil
}

func (c *call) queryDefinitions(*lb.QueryChaincodeDefinitionsArgs) (proto.Message, error) {
	kvs, err := scan(c.sim.GetStateRange, definitionsPrefix)
	if err != nil {
		return nil, err
	}
	out := &lb.QueryChaincodeDefinitionsResult{}
	for _, kv := range kvs {
		d := &lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			return nil, fmt.Errorf("definition %q: %w", kv.Key, err)
		}
		out.ChaincodeDefinitions = append(out.ChaincodeDefinitions, d)
	}
	return out, nil
}
