package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"weft/ca/store"
)

// Fabric CA's reserved attributes.
const (
	attrRoles          = "hf.Registrar.Roles"
	attrDelegateRoles  = "hf.Registrar.DelegateRoles"
	attrRegistrarAttrs = "hf.Registrar.Attributes"
	attrRevoker        = "hf.Revoker"
	attrIntermediateCA = "hf.IntermediateCA"
	attrGenCRL         = "hf.GenCRL"
	attrAffiliationMgr = "hf.AffiliationMgr"
	attrEnrollmentID   = "hf.EnrollmentID"
	attrType           = "hf.Type"
	attrAffiliation    = "hf.Affiliation"
)

func attrOf(id *store.Identity, name string) (string, bool) {
	if id == nil {
		return "", false
	}
	for _, a := range id.Attributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// attrTrue reports whether id holds name with a true boolean value.
func attrTrue(id *store.Identity, name string) bool {
	v, ok := attrOf(id, name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// splitList splits a comma-separated attribute value, trimming blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// affiliationWithin reports whether aff is parent or below it; the root
// affiliation "" contains everything.
func affiliationWithin(aff, parent string) bool {
	return parent == "" || aff == parent || strings.HasPrefix(aff, parent+".")
}

// containsAffiliation refuses an affiliation outside the caller's subtree.
func (rq *request) containsAffiliation(aff string) error {
	if !affiliationWithin(aff, rq.caller.id.Affiliation) {
		return authzErr(ErrCallerNotAffiliated, "Caller does not have authority to act on affiliation '%s'", aff)
	}
	return nil
}

// registrarRoles returns the caller's hf.Registrar.Roles; a caller without
// a non-empty value is not a registrar.
func (rq *request) registrarRoles() ([]string, error) {
	v, _ := attrOf(rq.caller.id, attrRoles)
	roles := splitList(v)
	if len(roles) == 0 {
		return nil, authzErr(ErrRegAttrAuth, "'%s' is not a registrar", rq.caller.id.Name)
	}
	return roles, nil
}

// canActOnType checks hf.Registrar.Roles ("*" means every type); an empty
// type counts as "client".
func (rq *request) canActOnType(typ string) error {
	roles, err := rq.registrarRoles()
	if err != nil {
		return err
	}
	if typ == "" {
		typ = "client"
	}
	if containsFold(roles, "*") || containsFold(roles, typ) {
		return nil
	}
	return authzErr(ErrCallerNotAffiliated, "Registrar does not have authority to act on type '%s'", typ)
}

// canManage: the identity's affiliation is in the caller's subtree and
// its type is one the caller may act on.
func (rq *request) canManage(id *store.Identity) error {
	if err := rq.containsAffiliation(id.Affiliation); err != nil {
		return err
	}
	return rq.canActOnType(id.Type)
}

// hasRole requires a boolean hf.* attribute to be true.
func (rq *request) hasRole(role string) error {
	v, ok := attrOf(rq.caller.id, role)
	if !ok {
		return authzErr(ErrInvokerMissAttr, "Invoker does not have the attribute '%s'", role)
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return newHTTPErr(400, ErrInvalidBool, "Failed to get boolean value of '%s': %q", role, v)
	}
	if !b {
		return authzErr(ErrMissingRole, "Caller has a value of 'false' for attribute/role '%s'", role)
	}
	return nil
}

// canRegisterAttrs applies Fabric CA's attribute rules to a registration
// (target nil) or a modification (target = the identity being changed):
//   - every name must match hf.Registrar.Attributes (exact, or prefix*)
//   - boolean hf.* rights need the registrar to hold them true
//   - list hf.* rights (roles, delegate roles, registrar attributes) must
//     be subsets of the registrar's own values
//   - hf.EnrollmentID, hf.Type, hf.Affiliation are fixed by the server, and
//     other hf.* names are reserved
func canRegisterAttrs(reqAttrs []store.Attribute, target, registrar *store.Identity) error {
	if len(reqAttrs) == 0 {
		return nil
	}
	allowedV, _ := attrOf(registrar, attrRegistrarAttrs)
	allowed := splitList(allowedV)
	if len(allowed) == 0 {
		return fmt.Errorf("registrar does not have any values for '%s' thus can't register any attributes", attrRegistrarAttrs)
	}
	for _, a := range reqAttrs {
		if !nameAllowed(a.Name, allowed) {
			return fmt.Errorf("attribute '%s' is not part of the registrar's '%s' list %v", a.Name, attrRegistrarAttrs, allowed)
		}
		switch a.Name {
		case attrRevoker, attrIntermediateCA, attrGenCRL, attrAffiliationMgr:
			if !attrTrue(registrar, a.Name) {
				return fmt.Errorf("registrar does not have '%s' set to true, so may not give it", a.Name)
			}
			if a.Value != "" {
				if _, err := strconv.ParseBool(a.Value); err != nil {
					return fmt.Errorf("attribute '%s': %q is not a boolean", a.Name, a.Value)
				}
			}
		case attrRoles, attrDelegateRoles:
			own, ok := attrOf(registrar, a.Name)
			if !ok {
				return fmt.Errorf("attribute '%s' requires ownership but the registrar does not own it", a.Name)
			}
			if !containsFold(splitList(own), "*") {
				for _, v := range splitList(a.Value) {
					if !containsFold(splitList(own), v) {
						return fmt.Errorf("attribute '%s': '%s' is not a member of the registrar's '%s'", a.Name, v, own)
					}
				}
			}
			if a.Name == attrDelegateRoles {
				if err := checkDelegateRoles(reqAttrs, target); err != nil {
					return err
				}
			}
		case attrRegistrarAttrs:
			if _, ok := attrOf(registrar, a.Name); !ok {
				return fmt.Errorf("attribute '%s' requires ownership but the registrar does not own it", a.Name)
			}
			for _, v := range splitList(a.Value) {
				if !nameAllowed(v, allowed) {
					return fmt.Errorf("value '%s' of '%s' is not part of the registrar's list %v", v, a.Name, allowed)
				}
				if strings.HasPrefix(v, "hf.") && !hasAttrNamed(reqAttrs, v) {
					if _, ok := attrOf(target, v); !ok {
						return fmt.Errorf("'%s' lists '%s', which the identity neither has nor is being given", a.Name, v)
					}
				}
			}
		case attrEnrollmentID, attrType, attrAffiliation:
			return fmt.Errorf("cannot register fixed value attribute '%s'", a.Name)
		default:
			if strings.HasPrefix(a.Name, "hf.") {
				return fmt.Errorf("attribute '%s' uses the reserved prefix 'hf.' but is not a supported reserved attribute", a.Name)
			}
		}
	}
	return nil
}

func nameAllowed(name string, allowed []string) bool {
	for _, p := range allowed {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(name, strings.TrimRight(p, "*")) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

func hasAttrNamed(attrs []store.Attribute, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

// checkDelegateRoles: delegate roles must be a subset of the roles the
// identity has (or is being given).
func checkDelegateRoles(reqAttrs []store.Attribute, target *store.Identity) error {
	var roles, delegate string
	for _, a := range reqAttrs {
		switch a.Name {
		case attrRoles:
			roles = a.Value
		case attrDelegateRoles:
			delegate = a.Value
		}
	}
	if roles == "" {
		roles, _ = attrOf(target, attrRoles)
	}
	if containsFold(splitList(roles), "*") {
		return nil
	}
	for _, d := range splitList(delegate) {
		if !containsFold(splitList(roles), d) {
			return errors.New("the delegateRoles field is a superset of roles")
		}
	}
	return nil
}

// updateIdentity applies change to the stored identity, retrying when a
// concurrent update won the race.
func (ca *caInstance) updateIdentity(ctx context.Context, name string, change func(*store.Identity) error) (*store.Identity, error) {
	for attempt := 0; ; attempt++ {
		id, err := ca.store.GetIdentity(ctx, ca.name, name)
		if err != nil {
			return nil, err
		}
		if err := change(id); err != nil {
			return nil, err
		}
		err = ca.store.UpdateIdentity(ctx, id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 8 {
			return nil, err
		}
	}
}
