package lifecycle

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/policy"
	"weft/wire/common"
	"weft/wire/ledger/rwset/kvrwset"
	"weft/wire/peer"
)

// PolicyChecker decides whether endorsements satisfy the endorsement policy
// of a namespace on one channel, reading chaincode definitions through get.
// It is safe for concurrent use; the validator checks transactions in parallel.
type PolicyChecker struct {
	get    Getter
	bundle *channelconfig.Bundle
	// compiled caches signature policies by their marshaled form, which is
	// all a compiled policy depends on besides the (fixed) bundle.
	compiled sync.Map // string → policy.Policy
}

// NewPolicyChecker returns a checker over the state read by get (the
// validator's view of committed state) and the channel config bundle.
func NewPolicyChecker(get func(ns, key string) ([]byte, error), bundle *channelconfig.Bundle) *PolicyChecker {
	return &PolicyChecker{get: get, bundle: bundle}
}

// CheckEndorsement returns nil when signedData (one entry per endorsement)
// satisfies what the writes of namespace ns require:
//   - _lifecycle approvals/<name>/<seq>/<MSP>: that org's endorsement policy
//     (/Channel/Application/<Org>/Endorsement, or else any peer of <MSP>);
//   - any other _lifecycle write (definitions/<name>), or none at all:
//     /Channel/Application/LifecycleEndorsement;
//   - a user chaincode: the policy of its committed definition.
func (pc *PolicyChecker) CheckEndorsement(ns string, writes *kvrwset.KVRWSet, signedData []policy.SignedData) error {
	if pc.bundle == nil {
		return errors.New("policy checker: no channel config")
	}
	if ns == Namespace {
		return pc.checkLifecycle(writes, signedData)
	}
	def, ok, err := Definition(pc.get, ns)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("chaincode %q is not defined on channel %q", ns, pc.bundle.ChannelID())
	}
	pol, desc, err := pc.applicationPolicy(def.EndorsementPolicy)
	if err != nil {
		return fmt.Errorf("chaincode %q: %w", ns, err)
	}
	if err := pol.EvaluateSignedData(signedData); err != nil {
		return fmt.Errorf("endorsement policy of chaincode %q (%s) not satisfied: %w", ns, desc, err)
	}
	return nil
}

func writtenKeys(writes *kvrwset.KVRWSet) []string {
	seen := map[string]bool{}
	for _, w := range writes.GetWrites() {
		seen[w.GetKey()] = true
	}
	for _, w := range writes.GetMetadataWrites() {
		seen[w.GetKey()] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (pc *PolicyChecker) checkLifecycle(writes *kvrwset.KVRWSet, signedData []policy.SignedData) error {
	orgs := map[string]bool{}
	needLifecycle := false
	for _, k := range writtenKeys(writes) {
		if _, _, mspID, ok := parseApprovalKey(k); ok {
			orgs[mspID] = true
			continue
		}
		needLifecycle = true
	}
	if len(orgs) == 0 {
		needLifecycle = true
	}
	ids := make([]string, 0, len(orgs))
	for id := range orgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		pol, desc, err := pc.orgEndorsement(id)
		if err != nil {
			return err
		}
		if err := pol.EvaluateSignedData(signedData); err != nil {
			return fmt.Errorf("approval by %s must be endorsed by that org (%s): %w", id, desc, err)
		}
	}
	if needLifecycle {
		pol, desc, err := pc.lifecycleEndorsement()
		if err != nil {
			return err
		}
		if err := pol.EvaluateSignedData(signedData); err != nil {
			return fmt.Errorf("chaincode definition changes need %s: %w", desc, err)
		}
	}
	return nil
}

// orgEndorsement is the policy guarding an org's approvals, as Fabric guards
// the org's implicit collection.
func (pc *PolicyChecker) orgEndorsement(mspID string) (policy.Policy, string, error) {
	for _, o := range pc.bundle.ApplicationOrgs() {
		if o.MSPID != mspID {
			continue
		}
		ref := "/Channel/Application/" + o.Name + "/Endorsement"
		if pol, ok := pc.bundle.PolicyManager().Policy(ref); ok {
			return pol, ref, nil
		}
		env := rolePolicy(1, common.MSPRole_PEER, mspID)
		pol, err := pc.signaturePolicy(env)
		if err != nil {
			return nil, "", fmt.Errorf("org %s: peer policy: %w", mspID, err)
		}
		return pol, "a peer of " + mspID, nil
	}
	return nil, "", fmt.Errorf("approval for org %s: no org found in channel %q with that MSP ID", mspID, pc.bundle.ChannelID())
}

// lifecycleEndorsement is /Channel/Application/LifecycleEndorsement or, on a
// channel without it, a majority of the application orgs' members (Fabric's
// fallback).
func (pc *PolicyChecker) lifecycleEndorsement() (policy.Policy, string, error) {
	if pol, ok := pc.bundle.PolicyManager().Policy(LifecycleEndorsementPolicyRef); ok {
		return pol, LifecycleEndorsementPolicyRef, nil
	}
	var ids []string
	for _, o := range pc.bundle.ApplicationOrgs() {
		ids = append(ids, o.MSPID)
	}
	if len(ids) == 0 {
		return nil, "", fmt.Errorf("channel %q has no application orgs to endorse lifecycle changes", pc.bundle.ChannelID())
	}
	n := int32(len(ids)/2 + 1)
	pol, err := pc.signaturePolicy(rolePolicy(n, common.MSPRole_MEMBER, ids...))
	if err != nil {
		return nil, "", fmt.Errorf("lifecycle endorsement fallback: %w", err)
	}
	return pol, fmt.Sprintf("%d of the members of %v", n, ids), nil
}

// applicationPolicy compiles a definition's policy; desc names it for errors.
func (pc *PolicyChecker) applicationPolicy(ap *peer.ApplicationPolicy) (policy.Policy, string, error) {
	switch t := ap.GetType().(type) {
	case *peer.ApplicationPolicy_SignaturePolicy:
		pol, err := pc.signaturePolicy(t.SignaturePolicy)
		if err != nil {
			return nil, "", fmt.Errorf("signature policy: %w", err)
		}
		return pol, policy.DescribeRule(t.SignaturePolicy.GetRule(), t.SignaturePolicy.GetIdentities()), nil
	case *peer.ApplicationPolicy_ChannelConfigPolicyReference:
		pol, ok := pc.bundle.PolicyManager().Policy(t.ChannelConfigPolicyReference)
		if !ok {
			return nil, "", fmt.Errorf("channel config policy %q does not exist", t.ChannelConfigPolicyReference)
		}
		return pol, t.ChannelConfigPolicyReference, nil
	default:
		return nil, "", errors.New("endorsement policy names neither a signature policy nor a channel config policy")
	}
}

func (pc *PolicyChecker) signaturePolicy(env *common.SignaturePolicyEnvelope) (policy.Policy, error) {
	b, err := marshalOpts.Marshal(env)
	if err != nil {
		return nil, err
	}
	if p, ok := pc.compiled.Load(string(b)); ok {
		return p.(policy.Policy), nil
	}
	p, err := policy.NewSignaturePolicy(env, pc.bundle.MSPManager())
	if err != nil {
		return nil, err
	}
	pc.compiled.Store(string(b), p)
	return p, nil
}

// rolePolicy is "n of the given MSPs, each signing with role".
func rolePolicy(n int32, role common.MSPRole_MSPRoleType, mspIDs ...string) *common.SignaturePolicyEnvelope {
	env := &common.SignaturePolicyEnvelope{}
	var rules []*common.SignaturePolicy
	for i, id := range mspIDs {
		principal, _ := proto.Marshal(&common.MSPRole{MspIdentifier: id, Role: role})
		env.Identities = append(env.Identities, &common.MSPPrincipal{
			PrincipalClassification: common.MSPPrincipal_ROLE,
			Principal:               principal,
		})
		rules = append(rules, policy.SignedBy(int32(i)))
	}
	env.Rule = policy.NOutOf(n, rules)
	return env
}
