package server

import (
	"errors"
	"fmt"
	"net/http"

	"weft/ca/store"
)

type identityInfo struct {
	ID             string            `json:"id"`
	Type           string            `json:"type"`
	Affiliation    string            `json:"affiliation"`
	Attributes     []store.Attribute `json:"attrs"`
	MaxEnrollments int               `json:"max_enrollments"`
}

type identityResponse struct {
	identityInfo
	Secret string `json:"secret,omitempty"`
	CAName string `json:"caname"`
}

func infoOf(id *store.Identity) identityInfo {
	attrs := id.Attributes
	if attrs == nil {
		attrs = []store.Attribute{}
	}
	return identityInfo{ID: id.Name, Type: id.Type, Affiliation: id.Affiliation, Attributes: attrs, MaxEnrollments: id.MaxEnrollments}
}

// /identities: GET lists what the caller may manage, POST adds one.
func (s *Server) identities(rq *request) (any, error) {
	if _, err := rq.tokenAuth(rq.r.Method != http.MethodGet); err != nil {
		return nil, err
	}
	if rq.r.Method == http.MethodPost {
		var req registrationRequest
		if err := rq.readBody(&req); err != nil {
			return nil, err
		}
		if req.Name == "" {
			return nil, newHTTPErr(http.StatusBadRequest, ErrAddIdentity, "Missing 'ID' in request to add a new identity")
		}
		secret, err := rq.registerIdentity(&req)
		if err != nil {
			return nil, err
		}
		id, err := rq.ca.store.GetIdentity(rq.ctx, rq.ca.name, req.Name)
		if err != nil {
			return nil, fmt.Errorf("read back identity %q: %w", req.Name, err)
		}
		rq.status = http.StatusCreated
		return identityResponse{identityInfo: infoOf(id), Secret: secret, CAName: rq.ca.name}, nil
	}
	roles, err := rq.registrarRoles()
	if err != nil {
		return nil, authzErr(ErrGettingUser, "Caller is not a registrar")
	}
	ids, err := rq.ca.store.ListIdentities(rq.ctx, rq.ca.name, rq.caller.id.Affiliation)
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrGettingUser, "Failed to get users by affiliation and type: %s", err)
	}
	out := []identityInfo{}
	for i := range ids {
		if containsFold(roles, "*") || containsFold(roles, ids[i].Type) {
			out = append(out, infoOf(&ids[i]))
		}
	}
	return struct {
		Identities []identityInfo `json:"identities"`
		CAName     string         `json:"caname"`
	}{out, rq.ca.name}, nil
}

// /identities/{id}: GET, PUT (modify), DELETE.
func (s *Server) identity(rq *request) (any, error) {
	if _, err := rq.tokenAuth(rq.r.Method != http.MethodGet); err != nil {
		return nil, err
	}
	name := rq.pathName
	if rq.r.Method == http.MethodDelete {
		return s.removeIdentity(rq, name)
	}
	target, err := rq.ca.store.GetIdentity(rq.ctx, rq.ca.name, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newHTTPErr(http.StatusNotFound, ErrDBGet, "Failed to get User: identity '%s' does not exist", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", name, err)
	}
	if err := rq.canManage(target); err != nil {
		return nil, err
	}
	if rq.r.Method == http.MethodGet {
		return identityResponse{identityInfo: infoOf(target), CAName: rq.ca.name}, nil
	}
	return s.modifyIdentity(rq, target)
}

type modifyRequest struct {
	Type           string            `json:"type"`
	Affiliation    string            `json:"affiliation"`
	Attributes     []store.Attribute `json:"attrs"`
	MaxEnrollments int               `json:"max_enrollments"`
	Secret         string            `json:"secret"`
}

func (s *Server) modifyIdentity(rq *request, target *store.Identity) (any, error) {
	var req modifyRequest
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	if req.Affiliation != "" {
		aff := req.Affiliation
		if aff == "." {
			aff = ""
		} else if ok, err := rq.ca.affiliationExists(rq.ctx, aff); err != nil {
			return nil, err
		} else if !ok {
			return nil, newHTTPErr(http.StatusBadRequest, ErrModifyingIdentity, "Affiliation '%s' is not supported", aff)
		}
		if err := rq.containsAffiliation(aff); err != nil {
			return nil, err
		}
	}
	if req.Type != "" {
		if err := rq.canActOnType(req.Type); err != nil {
			return nil, err
		}
	}
	if err := canRegisterAttrs(req.Attributes, target, rq.caller.id); err != nil {
		return nil, authzErr(ErrRegAttrAuth, "Failed to register attributes: %s", err)
	}
	if req.MaxEnrollments < -2 {
		return nil, newHTTPErr(http.StatusBadRequest, ErrInvalidMaxEnroll, "max_enrollments %d is below -1", req.MaxEnrollments)
	}
	var hash string
	if req.Secret != "" {
		var err error
		if hash, err = store.HashSecret(req.Secret); err != nil {
			return nil, fmt.Errorf("modify identity %q: %w", target.Name, err)
		}
	}
	updated, err := rq.ca.updateIdentity(rq.ctx, target.Name, func(u *store.Identity) error {
		if hash != "" {
			u.SecretHash, u.IncorrectAttempts = hash, 0
		}
		switch req.MaxEnrollments {
		case 0:
		case -2: // Fabric CA's way of asking for zero, as 0 means "unchanged"
			u.MaxEnrollments = 0
		default:
			u.MaxEnrollments = req.MaxEnrollments
		}
		switch req.Affiliation {
		case "":
		case ".":
			u.Affiliation = ""
		default:
			u.Affiliation = req.Affiliation
		}
		if req.Type != "" {
			u.Type = req.Type
		}
		u.Attributes = withFixedAttrs(mergeAttrs(u.Attributes, req.Attributes), u.Name, u.Type, u.Affiliation)
		return nil
	})
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrModifyingIdentity, "Failed to modify identity '%s': %s", target.Name, err)
	}
	return identityResponse{identityInfo: infoOf(updated), Secret: req.Secret, CAName: rq.ca.name}, nil
}

// mergeAttrs updates or adds attributes; an empty value removes one.
func mergeAttrs(cur, changes []store.Attribute) []store.Attribute {
	out := append([]store.Attribute(nil), cur...)
	for _, c := range changes {
		idx := -1
		for i := range out {
			if out[i].Name == c.Name {
				idx = i
				break
			}
		}
		switch {
		case c.Value == "" && idx >= 0:
			out = append(out[:idx], out[idx+1:]...)
		case c.Value == "":
		case idx >= 0:
			out[idx] = c
		default:
			out = append(out, c)
		}
	}
	return out
}

// removeIdentity deletes an identity and revokes its certificates, as
// Fabric CA does, when identity removal is enabled.
func (s *Server) removeIdentity(rq *request, name string) (any, error) {
	if !rq.ca.cfg.AllowIdentityRemoval {
		return nil, newHTTPErr(http.StatusForbidden, ErrRemoveIdentity, "Identity removal is disabled")
	}
	force, err := rq.boolQuery("force")
	if err != nil {
		return nil, err
	}
	if name == rq.caller.id.Name && !force {
		return nil, newHTTPErr(http.StatusForbidden, ErrRemoveIdentity, "Need to use 'force' option to delete your own identity")
	}
	target, err := rq.ca.store.GetIdentity(rq.ctx, rq.ca.name, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newHTTPErr(http.StatusNotFound, ErrDBGet, "Failed to get User: identity '%s' does not exist", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", name, err)
	}
	if err := rq.canManage(target); err != nil {
		return nil, err
	}
	if _, err := rq.ca.store.RevokeCertificates(rq.ctx, rq.ca.name, store.CertFilter{ID: name},
		reasonCessationOfOperation, rq.ca.now()); err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrRemoveIdentity, "Failed to revoke certificates of '%s': %s", name, err)
	}
	if err := rq.ca.store.DeleteIdentity(rq.ctx, rq.ca.name, name); err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrRemoveIdentity, "Failed to remove identity: %s", err)
	}
	return identityResponse{identityInfo: infoOf(target), CAName: rq.ca.name}, nil
}
