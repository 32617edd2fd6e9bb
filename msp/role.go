package msp

import (
	"fmt"

	common "weft/wire/common"
)

// Role is the classification of an identity within its MSP.
type Role int

// Roles an identity can hold. Member applies to every valid identity; the
// others come from NodeOUs (admin also from the admins list).
const (
	RoleMember Role = iota
	RoleClient
	RolePeer
	RoleAdmin
	RoleOrderer
)

func (r Role) String() string {
	switch r {
	case RoleMember:
		return "member"
	case RoleClient:
		return "client"
	case RolePeer:
		return "peer"
	case RoleAdmin:
		return "admin"
	case RoleOrderer:
		return "orderer"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ProtoRole maps r to the wire enum used in MSPRole principals.
func (r Role) ProtoRole() (common.MSPRole_MSPRoleType, error) {
	switch r {
	case RoleMember:
		return common.MSPRole_MEMBER, nil
	case RoleClient:
		return common.MSPRole_CLIENT, nil
	case RolePeer:
		return common.MSPRole_PEER, nil
	case RoleAdmin:
		return common.MSPRole_ADMIN, nil
	case RoleOrderer:
		return common.MSPRole_ORDERER, nil
	}
	return 0, fmt.Errorf("role %d has no MSPRole equivalent", int(r))
}

// RoleFromProto maps a wire MSPRole type to a Role.
func RoleFromProto(t common.MSPRole_MSPRoleType) (Role, error) {
	switch t {
	case common.MSPRole_MEMBER:
		return RoleMember, nil
	case common.MSPRole_CLIENT:
		return RoleClient, nil
	case common.MSPRole_PEER:
		return RolePeer, nil
	case common.MSPRole_ADMIN:
		return RoleAdmin, nil
	case common.MSPRole_ORDERER:
		return RoleOrderer, nil
	}
	return 0, fmt.Errorf("unknown MSP role type %d", int32(t))
}
