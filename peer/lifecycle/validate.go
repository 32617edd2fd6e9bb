package lifecycle

import (
	"errors"
	"fmt"
	"regexp"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/policy"
	"weft/wire/peer"
)

// Fabric's rules for chaincode names and versions.
var (
	nameRE    = regexp.MustCompile(`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
)

var systemChaincodeNames = map[string]bool{"cscc": true, "escc": true, "lscc": true, "qscc": true, "vscc": true}

func validateNameVersion(name, version string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid chaincode name '%s'. Names can only consist of alphanumerics, '_', and '-' and can only begin with alphanumerics", name)
	}
	if systemChaincodeNames[name] {
		return fmt.Errorf("chaincode name '%s' is the name of a system chaincode", name)
	}
	if !versionRE.MatchString(version) {
		return fmt.Errorf("invalid chaincode version '%s'. Versions can only consist of alphanumerics, '_', '-', '+', and '.'", version)
	}
	return nil
}

// prepareParams fills Fabric's defaults into p and checks that the result can
// be enforced on cfg's channel, so that a definition that could never
// validate a transaction is refused up front.
func prepareParams(p *params, cfg *channelconfig.Bundle) error {
	if len(p.ValidationParameter) == 0 {
		if _, ok := cfg.PolicyManager().Policy(DefaultEndorsementPolicyRef); !ok {
			return fmt.Errorf("policy '%s' must be defined for channel '%s' before chaincode operations can be attempted", DefaultEndorsementPolicyRef, cfg.ChannelID())
		}
	}
	p.fillDefaults()
	if p.Collections != nil {
		return errors.New("collections: private data collections are not supported yet")
	}
	if p.EndorsementPlugin != DefaultEndorsementPlugin {
		return fmt.Errorf("endorsement_plugin: %q is not supported (only %q)", p.EndorsementPlugin, DefaultEndorsementPlugin)
	}
	if p.ValidationPlugin != DefaultValidationPlugin {
		return fmt.Errorf("validation_plugin: %q is not supported (only %q)", p.ValidationPlugin, DefaultValidationPlugin)
	}
	ap := &peer.ApplicationPolicy{}
	if err := proto.Unmarshal(p.ValidationParameter, ap); err != nil {
		return fmt.Errorf("validation_parameter: not a marshaled ApplicationPolicy: %w", err)
	}
	switch t := ap.Type.(type) {
	case *peer.ApplicationPolicy_SignaturePolicy:
		if _, err := policy.NewSignaturePolicy(t.SignaturePolicy, cfg.MSPManager()); err != nil {
			return fmt.Errorf("validation_parameter: signature policy: %w", err)
		}
	case *peer.ApplicationPolicy_ChannelConfigPolicyReference:
		if _, ok := cfg.PolicyManager().Policy(t.ChannelConfigPolicyReference); !ok {
			return fmt.Errorf("validation_parameter: channel config policy %q does not exist on channel '%s'", t.ChannelConfigPolicyReference, cfg.ChannelID())
		}
	default:
		return errors.New("validation_parameter: ApplicationPolicy names neither a signature policy nor a channel config policy reference")
	}
	return nil
}
