package endorser

import (
	"errors"
	"fmt"
	"strings"

	"weft/channelconfig"
	"weft/msp"
	"weft/policy"
	"weft/wire/common"

	"google.golang.org/protobuf/proto"
)

// ACL resource names, as in Fabric's channel ACLs value.
const (
	ResourcePropose           = "peer/Propose"
	ResourceChaincodeToCC     = "peer/ChaincodeToChaincode"
	ResourceCommitStatus      = "gateway/CommitStatus"
	ResourceChaincodeEvents   = "gateway/ChaincodeEvents"
	ResourceEventBlock        = "event/Block"
	ResourceEventFilteredBlck = "event/FilteredBlock"
)

const (
	channelWriters = "/Channel/Application/Writers"
	channelReaders = "/Channel/Application/Readers"
	localAdmins    = "local:Admins"
	localMembers   = "local:Members"
)

// defaultACLs is Fabric's default resource → policy table. Entries starting
// with "local:" are checked against the peer's own MSP and cannot be
// overridden by the channel config (Fabric's "peer type" resources).
var defaultACLs = map[string]string{
	"_lifecycle/InstallChaincode":                   localAdmins,
	"_lifecycle/QueryInstalledChaincode":            localAdmins,
	"_lifecycle/GetInstalledChaincodePackage":       localAdmins,
	"_lifecycle/QueryInstalledChaincodes":           localAdmins,
	"_lifecycle/ApproveChaincodeDefinitionForMyOrg": localAdmins,
	"_lifecycle/QueryApprovedChaincodeDefinition":   localAdmins,
	"_lifecycle/QueryApprovedChaincodeDefinitions":  localAdmins,
	"_lifecycle/CommitChaincodeDefinition":          channelWriters,
	"_lifecycle/QueryChaincodeDefinition":           channelWriters,
	"_lifecycle/QueryChaincodeDefinitions":          channelWriters,
	"_lifecycle/CheckCommitReadiness":               channelWriters,
	"qscc/GetChainInfo":                             channelReaders,
	"qscc/GetBlockByNumber":                         channelReaders,
	"qscc/GetBlockByHash":                           channelReaders,
	"qscc/GetTransactionByID":                       channelReaders,
	"qscc/GetBlockByTxID":                           channelReaders,
	"cscc/JoinChain":                                localAdmins,
	"cscc/JoinChainBySnapshot":                      localAdmins,
	"cscc/JoinBySnapshotStatus":                     localAdmins,
	"cscc/GetChannels":                              localMembers,
	"cscc/GetConfigBlock":                           channelReaders,
	"cscc/GetChannelConfig":                         channelReaders,
	ResourcePropose:                                 channelWriters,
	ResourceChaincodeToCC:                           channelWriters,
	ResourceEventBlock:                              channelReaders,
	ResourceEventFilteredBlck:                       channelReaders,
	ResourceCommitStatus:                            channelReaders,
	ResourceChaincodeEvents:                         channelReaders,
}

// ErrAccessDenied marks ACL failures.
var ErrAccessDenied = errors.New("access denied")

// IsLocalResource reports whether resource is checked against the peer's own
// MSP rather than a channel policy.
func IsLocalResource(resource string) bool {
	return strings.HasPrefix(defaultACLs[resource], "local:")
}

// ACL checks signed data against the policy guarding an API resource.
type ACL struct {
	// LocalMSP is the peer's own organisation, for admin/member resources.
	LocalMSP *msp.MSP
}

// Check evaluates sd against resource's policy. bundle is the channel config
// (nil for local resources). Unknown resources fall back to the channel
// Writers policy, or local admins when there is no channel.
func (a *ACL) Check(resource string, bundle *channelconfig.Bundle, sd []policy.SignedData) error {
	ref := defaultACLs[resource]
	if !strings.HasPrefix(ref, "local:") && bundle != nil {
		if custom, ok := bundle.ACLs()[resource]; ok && custom != "" {
			ref = custom
			if !strings.HasPrefix(ref, "/") {
				// Fabric reads relative ACL references inside the Application group.
				ref = "/Channel/Application/" + ref
			}
		}
	}
	if ref == "" {
		ref = channelWriters
		if bundle == nil {
			ref = localAdmins
		}
	}
	if strings.HasPrefix(ref, "local:") {
		role := msp.RoleAdmin
		if ref == localMembers {
			role = msp.RoleMember
		}
		if err := a.checkLocal(role, sd); err != nil {
			return fmt.Errorf("%w: resource %s needs a local %s: %v", ErrAccessDenied, resource, role, err)
		}
		return nil
	}
	if bundle == nil {
		return fmt.Errorf("%w: resource %s needs a channel", ErrAccessDenied, resource)
	}
	pm := bundle.PolicyManager()
	if pm == nil {
		return fmt.Errorf("%w: channel %q has no policies", ErrAccessDenied, bundle.ChannelID())
	}
	pol, ok := pm.Policy(ref)
	if !ok {
		return fmt.Errorf("%w: resource %s: policy %s not found in channel %q", ErrAccessDenied, resource, ref, bundle.ChannelID())
	}
	if err := pol.EvaluateSignedData(sd); err != nil {
		return fmt.Errorf("%w: resource %s: policy %s not satisfied: %v", ErrAccessDenied, resource, ref, err)
	}
	return nil
}

// checkLocal needs one signature in sd by a valid identity of the local MSP
// holding role.
func (a *ACL) checkLocal(role msp.Role, sd []policy.SignedData) error {
	if a.LocalMSP == nil {
		return errors.New("no local MSP configured")
	}
	protoRole, err := role.ProtoRole()
	if err != nil {
		return err
	}
	principalBytes, err := proto.Marshal(&common.MSPRole{MspIdentifier: a.LocalMSP.ID(), Role: protoRole})
	if err != nil {
		return fmt.Errorf("marshal principal: %w", err)
	}
	principal := &common.MSPPrincipal{PrincipalClassification: common.MSPPrincipal_ROLE, Principal: principalBytes}
	var last error = errors.New("no signatures")
	for _, s := range sd {
		id, err := a.LocalMSP.DeserializeIdentity(s.Identity)
		if err != nil {
			last = err
			continue
		}
		if err := a.LocalMSP.Validate(id); err != nil {
			last = err
			continue
		}
		if err := s.Verify(id); err != nil {
			last = fmt.Errorf("signature of %s: %w", id, err)
			continue
		}
		if err := a.LocalMSP.SatisfiesPrincipal(id, principal); err != nil {
			last = err
			continue
		}
		return nil
	}
	return last
}
