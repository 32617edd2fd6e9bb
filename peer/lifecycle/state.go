package lifecycle

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"weft/wire/peer"
	lb "weft/wire/peer/lifecycle"
)

// Namespace is the ledger namespace of the lifecycle system chaincode.
const Namespace = "_lifecycle"

// Policy references and plugin names Fabric fills in for empty fields.
const (
	DefaultEndorsementPolicyRef   = "/Channel/Application/Endorsement"
	LifecycleEndorsementPolicyRef = "/Channel/Application/LifecycleEndorsement"
	DefaultEndorsementPlugin      = "escc"
	DefaultValidationPlugin       = "vscc"
)

const (
	definitionsPrefix = "definitions/"
	approvalsPrefix   = "approvals/"
)

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// DefinitionKey is the _lifecycle key holding the committed definition of name.
func DefinitionKey(name string) string { return definitionsPrefix + name }

// ApprovalKey is the _lifecycle key holding mspID's approval of name at seq.
func ApprovalKey(name string, seq int64, mspID string) string {
	return approvalsPrefix + name + "/" + strconv.FormatInt(seq, 10) + "/" + mspID
}

// approvalPrefix is the common prefix of every approval of name.
func approvalPrefix(name string) string { return approvalsPrefix + name + "/" }

// parseApprovalKey splits an approval key; ok is false for any other key.
func parseApprovalKey(key string) (name string, seq int64, mspID string, ok bool) {
	rest, found := strings.CutPrefix(key, approvalsPrefix)
	if !found {
		return "", 0, "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", 0, "", false
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != parts[1] {
		return "", 0, "", false
	}
	return parts[0], seq, parts[2], true
}

// defaultPolicyBytes is the validation parameter of definitions that name no
// policy: the channel's /Channel/Application/Endorsement.
func defaultPolicyBytes() []byte {
	b, _ := marshalOpts.Marshal(&peer.ApplicationPolicy{
		Type: &peer.ApplicationPolicy_ChannelConfigPolicyReference{ChannelConfigPolicyReference: DefaultEndorsementPolicyRef},
	})
	return b
}

// params are the fields of a definition that orgs agree on; the package an
// org runs is deliberately not among them.
type params struct {
	Version             string
	EndorsementPlugin   string
	ValidationPlugin    string
	ValidationParameter []byte
	InitRequired        bool
	Collections         *peer.CollectionConfigPackage
}

func (p *params) fillDefaults() {
	if p.EndorsementPlugin == "" {
		p.EndorsementPlugin = DefaultEndorsementPlugin
	}
	if p.ValidationPlugin == "" {
		p.ValidationPlugin = DefaultValidationPlugin
	}
	if len(p.ValidationParameter) == 0 {
		p.ValidationParameter = defaultPolicyBytes()
	}
	// An empty collection package and none at all mean the same.
	if p.Collections != nil && len(p.Collections.Config) == 0 {
		p.Collections = nil
	}
}

// mismatches names the parameter groups that differ, using Fabric's group
// names (what CheckCommitReadiness reports per org).
func (p *params) mismatches(o *params) []string {
	var out []string
	if p.Version != o.Version || p.EndorsementPlugin != o.EndorsementPlugin || p.InitRequired != o.InitRequired {
		out = append(out, "EndorsementInfo")
	}
	if p.ValidationPlugin != o.ValidationPlugin || !bytes.Equal(p.ValidationParameter, o.ValidationParameter) {
		out = append(out, "ValidationInfo")
	}
	if !proto.Equal(p.Collections, o.Collections) {
		out = append(out, "Collections")
	}
	return out
}

// diff explains the first difference the way an operator needs it.
func (p *params) diff(o *params) error {
	switch {
	case p.Version != o.Version:
		return fmt.Errorf("expected Version '%s' does not match passed Version '%s'", p.Version, o.Version)
	case p.EndorsementPlugin != o.EndorsementPlugin:
		return fmt.Errorf("expected EndorsementPlugin '%s' does not match passed EndorsementPlugin '%s'", p.EndorsementPlugin, o.EndorsementPlugin)
	case p.InitRequired != o.InitRequired:
		return fmt.Errorf("expected InitRequired '%t' does not match passed InitRequired '%t'", p.InitRequired, o.InitRequired)
	case p.ValidationPlugin != o.ValidationPlugin:
		return fmt.Errorf("expected ValidationPlugin '%s' does not match passed ValidationPlugin '%s'", p.ValidationPlugin, o.ValidationPlugin)
	case !bytes.Equal(p.ValidationParameter, o.ValidationParameter):
		return fmt.Errorf("expected ValidationParameter '%x' does not match passed ValidationParameter '%x'", p.ValidationParameter, o.ValidationParameter)
	case !proto.Equal(p.Collections, o.Collections):
		return errors.New("Collections do not match")
	}
	return nil
}

func approvalParams(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) *params {
	return &params{a.Version, a.EndorsementPlugin, a.ValidationPlugin, a.ValidationParameter, a.InitRequired, a.Collections}
}

func definitionParams(d *lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition) *params {
	return &params{d.Version, d.EndorsementPlugin, d.ValidationPlugin, d.ValidationParameter, d.InitRequired, d.Collections}
}

// approvedPackage is the package ID an approval names ("" for unavailable).
func approvedPackage(a *lb.ApproveChaincodeDefinitionForMyOrgArgs) string {
	if l, ok := a.GetSource().GetType().(*lb.ChaincodeSource_LocalPackage); ok {
		return l.LocalPackage.GetPackageId()
	}
	return ""
}

// Getter reads committed (or simulated) state.
type Getter func(ns, key string) ([]byte, error)

func readDefinition(get Getter, name string) (*lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition, error) {
	b, err := get(Namespace, DefinitionKey(name))
	if err != nil {
		return nil, fmt.Errorf("chaincode %q: reading definition: %w", name, err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	d := &lb.QueryChaincodeDefinitionsResult_ChaincodeDefinition{}
	if err := proto.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("chaincode %q: stored definition: %w", name, err)
	}
	return d, nil
}

func readApproval(get Getter, name string, seq int64, mspID string) (*lb.ApproveChaincodeDefinitionForMyOrgArgs, error) {
	b, err := get(Namespace, ApprovalKey(name, seq, mspID))
	if err != nil {
		return nil, fmt.Errorf("chaincode %q sequence %d org %s: reading approval: %w", name, seq, mspID, err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	a := &lb.ApproveChaincodeDefinitionForMyOrgArgs{}
	if err := proto.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("chaincode %q sequence %d org %s: stored approval: %w", name, seq, mspID, err)
	}
	return a, nil
}

// Def is a committed chaincode definition as the endorser and validator need it.
type Def struct {
	Name              string
	Sequence          int64
	Version           string
	EndorsementPlugin string
	ValidationPlugin  string
	// EndorsementPolicy is the decoded validation parameter.
	EndorsementPolicy *peer.ApplicationPolicy
	InitRequired      bool
}

// Definition returns the committed definition of chaincode name; ok is false
// when none is committed.
func Definition(get func(ns, key string) ([]byte, error), name string) (*Def, bool, error) {
	d, err := readDefinition(get, name)
	if err != nil || d == nil {
		return nil, false, err
	}
	pol := &peer.ApplicationPolicy{}
	if err := proto.Unmarshal(d.ValidationParameter, pol); err != nil {
		return nil, false, fmt.Errorf("chaincode %q: validation parameter is not an ApplicationPolicy: %w", name, err)
	}
	return &Def{
		Name:              name,
		Sequence:          d.Sequence,
		Version:           d.Version,
		EndorsementPlugin: d.EndorsementPlugin,
		ValidationPlugin:  d.ValidationPlugin,
		EndorsementPolicy: pol,
		InitRequired:      d.InitRequired,
	}, true, nil
}

// ApprovedPackageID returns the package mspID approved for chaincode name at
// sequence seq: the chaincode a peer of that org launches for the definition.
// ok is false when the org has not approved, or approved without a package.
func ApprovedPackageID(get func(ns, key string) ([]byte, error), name string, seq int64, mspID string) (string, bool, error) {
	a, err := readApproval(get, name, seq, mspID)
	if err != nil || a == nil {
		return "", false, err
	}
	id := approvedPackage(a)
	return id, id != "", nil
}
