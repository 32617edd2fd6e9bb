package server

import (
	"errors"
	"fmt"
	"net/http"
)

// Fabric CA's numeric error codes (lib/caerrors). Clients match on them, so
// the numbers are part of the wire contract.
const (
	ErrUnknown               = 0
	ErrMethodNotAllowed      = 1
	ErrNoAuthHdr             = 2
	ErrReadingReqBody        = 3
	ErrEmptyReqBody          = 4
	ErrBadReqBody            = 5
	ErrNotRevoker            = 7
	ErrRevCertNotFound       = 8
	ErrCertWrongOwner        = 9
	ErrRevokeIDNotFound      = 10
	ErrRevokeFailure         = 12
	ErrRevokeUpdateUser      = 13
	ErrMissingRevokeArgs     = 15
	ErrGettingAffiliation    = 16
	ErrCANotFound            = 19
	ErrAuthenticationFailure = 20
	ErrNoUserPass            = 21
	ErrEnrollDisabled        = 22
	ErrInvalidUser           = 23
	ErrInvalidPass           = 24
	ErrInvalidToken          = 25
	ErrUntrustedCertificate  = 26
	ErrCertExpired           = 27
	ErrCertRevoked           = 28
	ErrCertNotFound          = 30
	ErrBadCSR                = 31
	ErrNoGenCRLAuth          = 35
	ErrInvalidRevokedAfter   = 36
	ErrInvalidExpiredAfter   = 37
	ErrRevokedCertsFromDB    = 38
	ErrGenCRL                = 41
	ErrRegAttrAuth           = 42
	ErrMissingRegAttr        = 43
	ErrCallerNotAffiliated   = 44
	ErrNoCrlSignAuth         = 46
	ErrGettingUser           = 49
	ErrAddIdentity           = 52
	ErrRegistrarInvalidType  = 54
	ErrRemoveIdentity        = 56
	ErrGettingBoolQueryParm  = 57
	ErrModifyingIdentity     = 58
	ErrMissingRole           = 59
	ErrUpdateConfigAddAff    = 60
	ErrUpdateConfigRemoveAff = 61
	ErrDBGet                 = 63
	ErrUpdateConfigModifyAff = 64
	ErrCertAlreadyRevoked    = 66
	ErrGettingCert           = 67
	ErrRevokedID             = 70
	ErrAuthorizationFailure  = 71
	ErrPasswordAttempts      = 73
	ErrDupIdentityReg        = 74
	ErrRegisteringIdentity   = 75
	ErrRegistrarRegAuth      = 76
	ErrCNInvalidEnroll       = 77
	ErrInvokerMissAttr       = 78
	ErrInvalidBool           = 79
	ErrInputValidCSR         = 80
	ErrAttrExt               = 81
	ErrInvalidMaxEnroll      = 82
)

// httpError is an error answered to the client. Like Fabric CA, the server
// keeps a specific local code and message for its log but may answer a
// generic remote one, so a caller probing credentials or rights learns only
// "authentication failure" or "authorization failure".
type httpError struct {
	status     int
	localCode  int
	localMsg   string
	remoteCode int
	remoteMsg  string
}

func (e *httpError) Error() string { return e.localMsg }

func newHTTPErr(status, code int, format string, args ...any) *httpError {
	msg := fmt.Sprintf(format, args...)
	return &httpError{status: status, localCode: code, localMsg: msg, remoteCode: code, remoteMsg: msg}
}

// authnErr answers 401 with the generic code 20.
func authnErr(code int, format string, args ...any) *httpError {
	e := newHTTPErr(http.StatusUnauthorized, code, format, args...)
	e.remoteCode, e.remoteMsg = ErrAuthenticationFailure, "Authentication failure"
	return e
}

// authzErr answers 403 with the generic code 71.
func authzErr(code int, format string, args ...any) *httpError {
	e := newHTTPErr(http.StatusForbidden, code, format, args...)
	e.remoteCode, e.remoteMsg = ErrAuthorizationFailure, "Authorization failure"
	return e
}

// asHTTPErr maps any error to what the client sees: an *httpError in the
// chain keeps its codes; anything else is an internal error (500, code 0),
// as Fabric CA answers for errors it did not classify.
func asHTTPErr(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	return newHTTPErr(http.StatusInternalServerError, ErrUnknown, "%s", err.Error())
}
