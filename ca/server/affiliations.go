package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"weft/ca/store"
)

type affInfo struct {
	Name         string         `json:"name"`
	Affiliations []affInfo      `json:"affiliations,omitempty"`
	Identities   []identityInfo `json:"identities,omitempty"`
}

type affResponse struct {
	affInfo
	CAName string `json:"caname,omitempty"`
}

func (ca *caInstance) affiliationExists(ctx context.Context, name string) (bool, error) {
	all, err := ca.store.ListAffiliations(ctx, ca.name)
	if err != nil {
		return false, fmt.Errorf("list affiliations: %w", err)
	}
	i := sort.SearchStrings(all, name)
	return i < len(all) && all[i] == name, nil
}

// tree builds the affiliation tree rooted at root from the sorted names,
// attaching identities (when given) to the node of their affiliation.
func tree(root string, all []string, ids []store.Identity) affInfo {
	node := affInfo{Name: root}
	for _, name := range all {
		if name == root || !affiliationWithin(name, root) {
			continue
		}
		rest := name
		if root != "" {
			rest = strings.TrimPrefix(name, root+".")
		}
		if !strings.Contains(rest, ".") { // direct child
			node.Affiliations = append(node.Affiliations, tree(name, all, ids))
		}
	}
	for i := range ids {
		if ids[i].Affiliation == root {
			node.Identities = append(node.Identities, infoOf(&ids[i]))
		}
	}
	return node
}

// /affiliations: GET the caller's subtree, POST add (hf.AffiliationMgr).
func (s *Server) affiliations(rq *request) (any, error) {
	if err := rq.affiliationAuth(); err != nil {
		return nil, err
	}
	ca := rq.ca
	if rq.r.Method == http.MethodGet {
		all, err := ca.store.ListAffiliations(rq.ctx, ca.name)
		if err != nil {
			return nil, newHTTPErr(http.StatusInternalServerError, ErrGettingAffiliation, "Failed to get affiliations: %s", err)
		}
		root := rq.caller.id.Affiliation
		t := tree(root, all, nil)
		if len(t.Affiliations) == 0 && root == "" {
			return nil, newHTTPErr(http.StatusNotFound, ErrGettingAffiliation, "No affiliations are configured on the CA")
		}
		return affResponse{affInfo: t, CAName: ca.name}, nil
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	if req.Name == "" || strings.HasPrefix(req.Name, ".") || strings.HasSuffix(req.Name, ".") || strings.Contains(req.Name, "..") {
		return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigAddAff, "name: %q is not a dotted affiliation name", req.Name)
	}
	exists, err := ca.affiliationExists(rq.ctx, req.Name)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, newHTTPErr(http.StatusConflict, ErrUpdateConfigAddAff, "Affiliation already exists")
	}
	if err := rq.containsAffiliation(req.Name); err != nil {
		return nil, err
	}
	force, err := rq.boolQuery("force")
	if err != nil {
		return nil, err
	}
	if i := strings.LastIndex(req.Name, "."); i > 0 && !force {
		ok, err := ca.affiliationExists(rq.ctx, req.Name[:i])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigAddAff,
				"Parent affiliation does not exist, 'force' option required on request to add affiliation")
		}
	}
	if err := ca.addAffiliationPath(rq.ctx, req.Name); err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrUpdateConfigAddAff, "Failed to add affiliation '%s': %s", req.Name, err)
	}
	rq.status = http.StatusCreated
	return affResponse{affInfo: affInfo{Name: req.Name}, CAName: ca.name}, nil
}

func (rq *request) affiliationAuth() error {
	if _, err := rq.tokenAuth(rq.r.Method != http.MethodGet); err != nil {
		return err
	}
	return rq.hasRole(attrAffiliationMgr)
}

// /affiliations/{name}: GET, PUT (rename), DELETE.
func (s *Server) affiliation(rq *request) (any, error) {
	if err := rq.affiliationAuth(); err != nil {
		return nil, err
	}
	ca, name := rq.ca, rq.pathName
	if rq.r.Method == http.MethodDelete && !ca.cfg.AllowAffiliationRemoval {
		return nil, authzErr(ErrUpdateConfigRemoveAff, "Affiliation removal is disabled")
	}
	if err := rq.containsAffiliation(name); err != nil {
		return nil, err
	}
	all, err := ca.store.ListAffiliations(rq.ctx, ca.name)
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrGettingAffiliation, "Failed to get affiliations: %s", err)
	}
	if i := sort.SearchStrings(all, name); i == len(all) || all[i] != name {
		return nil, newHTTPErr(http.StatusNotFound, ErrGettingAffiliation, "Affiliation '%s' does not exist", name)
	}
	ids, err := ca.store.ListIdentities(rq.ctx, ca.name, name)
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrGettingUser, "Failed to get identities of '%s': %s", name, err)
	}
	switch rq.r.Method {
	case http.MethodGet:
		return affResponse{affInfo: tree(name, all, ids), CAName: ca.name}, nil
	case http.MethodPut:
		return s.renameAffiliation(rq, name, ids)
	}
	if name == rq.caller.id.Affiliation {
		return nil, authzErr(ErrUpdateConfigRemoveAff, "Can't remove affiliation '%s' because the caller is associated with this affiliation", name)
	}
	force, err := rq.boolQuery("force")
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 && force && !ca.cfg.AllowIdentityRemoval {
		return nil, authzErr(ErrUpdateConfigRemoveAff, "Removing affiliation '%s' would remove identities, but identity removal is disabled", name)
	}
	result := tree(name, all, ids)
	err = ca.store.DeleteAffiliation(rq.ctx, ca.name, name, force)
	if errors.Is(err, store.ErrInUse) {
		return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigRemoveAff,
			"Cannot delete affiliation '%s': it has identities or sub-affiliations; the 'force' option is required", name)
	}
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrUpdateConfigRemoveAff, "Failed to remove affiliation '%s': %s", name, err)
	}
	for _, id := range ids {
		if _, err := ca.store.RevokeCertificates(rq.ctx, ca.name, store.CertFilter{ID: id.Name}, reasonCessationOfOperation, ca.now()); err != nil {
			return nil, newHTTPErr(http.StatusInternalServerError, ErrUpdateConfigRemoveAff, "Failed to revoke certificates of '%s': %s", id.Name, err)
		}
	}
	return affResponse{affInfo: result, CAName: ca.name}, nil
}

func (s *Server) renameAffiliation(rq *request, name string, ids []store.Identity) (any, error) {
	ca := rq.ca
	var req struct {
		Name string `json:"name"`
	}
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	newName := req.Name
	if newName == "" || strings.HasPrefix(newName, ".") || strings.HasSuffix(newName, ".") || strings.Contains(newName, "..") {
		return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigModifyAff, "name: %q is not a dotted affiliation name", newName)
	}
	if err := rq.containsAffiliation(newName); err != nil {
		return nil, err
	}
	force, err := rq.boolQuery("force")
	if err != nil {
		return nil, err
	}
	if exists, err := ca.affiliationExists(rq.ctx, newName); err != nil {
		return nil, err
	} else if exists {
		return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigModifyAff, "Affiliation '%s' already exists", newName)
	}
	if len(ids) > 0 {
		if !force {
			return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigModifyAff,
				"Affiliation '%s' has identities; the 'force' option is required to move them to '%s'", name, newName)
		}
		if _, err := rq.registrarRoles(); err != nil {
			return nil, err
		}
	}
	err = ca.store.RenameAffiliation(rq.ctx, ca.name, name, newName)
	if errors.Is(err, store.ErrExists) {
		return nil, newHTTPErr(http.StatusBadRequest, ErrUpdateConfigModifyAff, "Affiliation '%s' already exists", newName)
	}
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrUpdateConfigModifyAff, "Failed to modify affiliation from '%s' to '%s': %s", name, newName, err)
	}
	// Keep hf.Affiliation in step with the moved identities.
	moved, err := ca.store.ListIdentities(rq.ctx, ca.name, newName)
	if err != nil {
		return nil, fmt.Errorf("list moved identities: %w", err)
	}
	for _, id := range moved {
		if _, err := ca.updateIdentity(rq.ctx, id.Name, func(u *store.Identity) error {
			u.Attributes = withFixedAttrs(u.Attributes, u.Name, u.Type, u.Affiliation)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("update hf.Affiliation of %q: %w", id.Name, err)
		}
	}
	all, err := ca.store.ListAffiliations(rq.ctx, ca.name)
	if err != nil {
		return nil, fmt.Errorf("list affiliations: %w", err)
	}
	return affResponse{affInfo: tree(newName, all, moved), CAName: ca.name}, nil
}
