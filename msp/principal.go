package msp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	common "weft/wire/common"

	"google.golang.org/protobuf/proto"
)

// maxPrincipalDepth bounds COMBINED nesting so hostile config cannot
// exhaust the stack.
const maxPrincipalDepth = 32

// SatisfiesPrincipal returns nil when id satisfies p, else an error saying
// why. A COMBINED principal needs every sub-principal satisfied.
func (m *MSP) SatisfiesPrincipal(id *Identity, p *common.MSPPrincipal) error {
	if id == nil || id.Cert == nil {
		return errors.New("satisfies principal: identity is nil")
	}
	leaves, err := collectPrincipals(p, 0)
	if err != nil {
		return err
	}
	for _, leaf := range leaves {
		if err := m.satisfiesLeaf(id, leaf); err != nil {
			return err
		}
	}
	return nil
}

func collectPrincipals(p *common.MSPPrincipal, depth int) ([]*common.MSPPrincipal, error) {
	if p == nil {
		return nil, errors.New("principal is nil")
	}
	if p.GetPrincipalClassification() != common.MSPPrincipal_COMBINED {
		return []*common.MSPPrincipal{p}, nil
	}
	if depth >= maxPrincipalDepth {
		return nil, fmt.Errorf("combined principal nested deeper than %d", maxPrincipalDepth)
	}
	var cp common.CombinedPrincipal
	if err := proto.Unmarshal(p.GetPrincipal(), &cp); err != nil {
		return nil, fmt.Errorf("combined principal: %w", err)
	}
	if len(cp.GetPrincipals()) == 0 {
		return nil, errors.New("combined principal has no principals")
	}
	var out []*common.MSPPrincipal
	for _, sub := range cp.GetPrincipals() {
		leaves, err := collectPrincipals(sub, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, leaves...)
	}
	return out, nil
}

func (m *MSP) satisfiesLeaf(id *Identity, p *common.MSPPrincipal) error {
	switch p.GetPrincipalClassification() {
	case common.MSPPrincipal_ROLE:
		var r common.MSPRole
		if err := proto.Unmarshal(p.GetPrincipal(), &r); err != nil {
			return fmt.Errorf("role principal: %w", err)
		}
		if r.GetMspIdentifier() != m.name || id.MSPID != m.name {
			return fmt.Errorf("%s is not a member of %s (principal %s.%s)", id, r.GetMspIdentifier(), r.GetMspIdentifier(), roleWord(r.GetRole()))
		}
		return m.satisfiesRole(id, r.GetRole())
	case common.MSPPrincipal_IDENTITY:
		want, err := m.DeserializeIdentity(p.GetPrincipal())
		if err != nil {
			return fmt.Errorf("identity principal: %w", err)
		}
		if !bytes.Equal(want.Cert.Raw, id.Cert.Raw) {
			return fmt.Errorf("%s is not the identity %q named by the principal", id, want.Cert.Subject.CommonName)
		}
		return m.Validate(id)
	case common.MSPPrincipal_ORGANIZATION_UNIT:
		var ou common.OrganizationUnit
		if err := proto.Unmarshal(p.GetPrincipal(), &ou); err != nil {
			return fmt.Errorf("organization unit principal: %w", err)
		}
		if ou.GetMspIdentifier() != m.name || id.MSPID != m.name {
			return fmt.Errorf("%s is not a member of %s (OU principal %q)", id, ou.GetMspIdentifier(), ou.GetOrganizationalUnitIdentifier())
		}
		if err := m.Validate(id); err != nil {
			return err
		}
		chain, err := m.identityChain(id)
		if err != nil {
			return err
		}
		cid := chainID(chain[1:])
		for _, have := range id.Cert.Subject.OrganizationalUnit {
			if have == ou.GetOrganizationalUnitIdentifier() && bytes.Equal(cid, ou.GetCertifiersIdentifier()) {
				return nil
			}
		}
		return fmt.Errorf("%s does not carry OU %q certified by the principal's CA chain", id, ou.GetOrganizationalUnitIdentifier())
	case common.MSPPrincipal_ANONYMITY:
		var a common.MSPIdentityAnonymity
		if err := proto.Unmarshal(p.GetPrincipal(), &a); err != nil {
			return fmt.Errorf("anonymity principal: %w", err)
		}
		switch a.GetAnonymityType() {
		case common.MSPIdentityAnonymity_NOMINAL:
			return nil
		case common.MSPIdentityAnonymity_ANONYMOUS:
			return errors.New("principal requires an anonymous identity, which X.509 MSPs do not have")
		}
		return fmt.Errorf("anonymity principal: unknown type %d", int32(a.GetAnonymityType()))
	}
	return fmt.Errorf("principal classification %d is not supported", int32(p.GetPrincipalClassification()))
}

func (m *MSP) satisfiesRole(id *Identity, role common.MSPRole_MSPRoleType) error {
	switch role {
	case common.MSPRole_MEMBER:
		return m.Validate(id)
	case common.MSPRole_ADMIN:
		// Deliberately stricter than Fabric, which accepts a listed admin
		// certificate without validating it: a listed admin that has
		// expired or been revoked is refused here.
		if m.isAdmin(id) {
			return m.Validate(id)
		}
		if !m.nodeOUs {
			return fmt.Errorf("%s is not an admin: not in the admins list and NodeOUs are not enabled", id)
		}
		if err := m.Validate(id); err != nil {
			return err
		}
		if err := m.hasOURole(id, common.MSPRole_ADMIN); err != nil {
			return fmt.Errorf("%s is not an admin: not in the admins list and %w", id, err)
		}
		return nil
	case common.MSPRole_CLIENT, common.MSPRole_PEER, common.MSPRole_ORDERER:
		if err := m.Validate(id); err != nil {
			return err
		}
		if err := m.hasOURole(id, role); err != nil {
			return fmt.Errorf("%s does not have the %s role: %w", id, roleWord(role), err)
		}
		return nil
	}
	return fmt.Errorf("MSP role type %d is not supported", int32(role))
}

// Roles validates id and lists the roles it holds: member, its NodeOU role
// (when NodeOUs are enabled) and admin when it is listed or has the admin OU.
func (m *MSP) Roles(id *Identity) ([]Role, error) {
	if err := m.Validate(id); err != nil {
		return nil, err
	}
	roles := []Role{RoleMember}
	if m.nodeOUs {
		for _, r := range []common.MSPRole_MSPRoleType{common.MSPRole_CLIENT, common.MSPRole_PEER, common.MSPRole_ADMIN, common.MSPRole_ORDERER} {
			if m.hasOURole(id, r) == nil {
				role, _ := RoleFromProto(r)
				roles = append(roles, role)
			}
		}
	}
	if m.isAdmin(id) && !containsRole(roles, RoleAdmin) {
		roles = append(roles, RoleAdmin)
	}
	return roles, nil
}

func containsRole(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func roleWord(r common.MSPRole_MSPRoleType) string {
	return strings.ToLower(r.String())
}
