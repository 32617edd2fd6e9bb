package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"weft/ca/store"
)

type registrationRequest struct {
	Name           string            `json:"id"`
	Type           string            `json:"type"`
	Secret         string            `json:"secret"`
	MaxEnrollments int               `json:"max_enrollments"`
	Affiliation    string            `json:"affiliation"`
	Attributes     []store.Attribute `json:"attrs"`
	CAName         string            `json:"caname"`
}

// POST /register
func (s *Server) register(rq *request) (any, error) {
	var req registrationRequest
	if err := rq.readBody(&req); err != nil {
		return nil, err
	}
	if _, err := rq.tokenAuth(true); err != nil {
		return nil, err
	}
	secret, err := rq.registerIdentity(&req)
	if err != nil {
		return nil, err
	}
	rq.status = http.StatusCreated
	return struct {
		Secret string `json:"secret"`
	}{secret}, nil
}

// registerIdentity applies Fabric CA's registration rules for the caller
// and stores the identity; it returns the (possibly generated) secret.
func (rq *request) registerIdentity(req *registrationRequest) (string, error) {
	ca, caller := rq.ca, rq.caller.id
	if req.Name == "" {
		return "", newHTTPErr(http.StatusBadRequest, ErrRegisteringIdentity, "Registration failed: id is empty")
	}
	switch req.Affiliation {
	case "":
		req.Affiliation = caller.Affiliation
	case ".":
		req.Affiliation = ""
	}
	if req.Type == "" {
		req.Type = caller.Type
	}
	if err := rq.canRegister(req); err != nil {
		return "", authzErr(ErrRegistrarRegAuth, "Registration of '%s' failed: %s", req.Name, err)
	}
	max, err := registrationMax(req.MaxEnrollments, ca.cfg.MaxEnrollments)
	if err != nil {
		return "", err
	}
	if req.Secret == "" {
		if req.Secret, err = randomSecret(12); err != nil {
			return "", err
		}
	}
	hash, err := store.HashSecret(req.Secret)
	if err != nil {
		return "", fmt.Errorf("registration of %q: %w", req.Name, err)
	}
	id := &store.Identity{CAName: ca.name, Name: req.Name, SecretHash: hash, Type: req.Type,
		Affiliation: req.Affiliation, MaxEnrollments: max,
		Attributes: withFixedAttrs(req.Attributes, req.Name, req.Type, req.Affiliation)}
	err = ca.store.CreateIdentity(rq.ctx, id)
	if errors.Is(err, store.ErrExists) {
		return "", newHTTPErr(http.StatusConflict, ErrDupIdentityReg, "Identity '%s' is already registered", req.Name)
	}
	if err != nil {
		return "", fmt.Errorf("registration of %q: %w", req.Name, err)
	}
	rq.w.Header().Set("Location", "/api/v1/identities/"+url.PathEscape(req.Name))
	return req.Secret, nil
}

func (rq *request) canRegister(req *registrationRequest) error {
	if err := rq.canActOnType(req.Type); err != nil {
		return err
	}
	if err := rq.containsAffiliation(req.Affiliation); err != nil {
		return err
	}
	if req.Affiliation != "" {
		ok, err := rq.ca.affiliationExists(rq.ctx, req.Affiliation)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("affiliation '%s' does not exist", req.Affiliation)
		}
	}
	return canRegisterAttrs(req.Attributes, nil, rq.caller.id)
}

// registrationMax resolves a requested max_enrollments against the CA's
// (0 asks for the CA's value; -1 is only allowed when the CA has no cap).
func registrationMax(requested, caMax int) (int, error) {
	if requested < -1 {
		return 0, newHTTPErr(http.StatusBadRequest, ErrInvalidMaxEnroll,
			"Max enrollment in registration request may not be less than -1, but was %d", requested)
	}
	switch caMax {
	case -1:
		if requested == 0 {
			return -1, nil
		}
		return requested, nil
	case 0:
		return 0, newHTTPErr(http.StatusBadRequest, ErrInvalidMaxEnroll, "Registration is disabled")
	}
	switch {
	case requested == -1:
		return 0, newHTTPErr(http.StatusBadRequest, ErrInvalidMaxEnroll, "Registration for infinite enrollments is not allowed")
	case requested == 0:
		return caMax, nil
	case requested > caMax:
		return 0, newHTTPErr(http.StatusBadRequest, ErrInvalidMaxEnroll,
			"Requested enrollments (%d) exceeds maximum allowable enrollments (%d)", requested, caMax)
	}
	return requested, nil
}

const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomSecret(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	for i, b := range buf {
		// 62 does not divide 256; the slight bias is irrelevant at 71 bits.
		buf[i] = secretAlphabet[int(b)%len(secretAlphabet)]
	}
	return string(buf), nil
}
