package server

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"weft/ca/store"
)

// GET /certificates: certificates of identities in the caller's
// affiliation subtree; callers need hf.Registrar.Roles or hf.Revoker.
func (s *Server) certificates(rq *request) (any, error) {
	if _, err := rq.tokenAuth(false); err != nil {
		return nil, err
	}
	ca, caller := rq.ca, rq.caller.id
	if _, isRegistrar := attrOf(caller, attrRoles); !isRegistrar && !attrTrue(caller, attrRevoker) {
		return nil, authzErr(ErrAuthorizationFailure, "Caller does not posses either hf.Registrar.Roles or hf.Revoker attribute")
	}
	q := rq.r.URL.Query()
	f, expired, err := certFilter(q, ca.now())
	if err != nil {
		return nil, newHTTPErr(http.StatusBadRequest, ErrGettingCert, "Invalid Request: %s", err)
	}
	recs, err := ca.store.ListCertificates(rq.ctx, ca.name, f)
	if err != nil {
		return nil, newHTTPErr(http.StatusInternalServerError, ErrGettingCert, "Failed to get certificates: %s", err)
	}
	type certPEM struct {
		PEM string
	}
	out := []certPEM{}
	affOf := map[string]string{}
	for _, c := range recs {
		if !expired.contains(c.Expiry) {
			continue
		}
		if caller.Affiliation != "" {
			aff, seen := affOf[c.ID]
			if !seen {
				id, err := ca.store.GetIdentity(rq.ctx, ca.name, c.ID)
				if err != nil {
					// Certificates of removed identities belong to no
					// affiliation; only root callers see them.
					aff = "\x00"
				} else {
					aff = id.Affiliation
				}
				affOf[c.ID] = aff
			}
			if !affiliationWithin(aff, caller.Affiliation) {
				continue
			}
		}
		out = append(out, certPEM{PEM: string(c.PEM)})
	}
	return struct {
		Certs  []certPEM `json:"certs"`
		CAName string    `json:"caname"`
	}{out, q.Get("ca")}, nil
}

type timeRange struct{ start, end time.Time }

func (r timeRange) contains(t time.Time) bool {
	return (r.start.IsZero() || !t.Before(r.start)) && (r.end.IsZero() || !t.After(r.end))
}

// certFilter reads the query parameters fabric-ca-client sends.
func certFilter(q url.Values, now time.Time) (store.CertFilter, timeRange, error) {
	f := store.CertFilter{ID: q.Get("id"), Serial: normHex(q.Get("serial")), AKI: normHex(q.Get("aki")), Now: now}
	var expired timeRange
	var err error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{
		{"revoked_start", &f.RevokedAfter}, {"revoked_end", &f.RevokedBefore},
		{"expired_start", &expired.start}, {"expired_end", &expired.end},
	} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = parseQueryTime(v, now); err != nil {
				return f, expired, fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	if !f.RevokedAfter.IsZero() || !f.RevokedBefore.IsZero() {
		revoked := true
		f.Revoked = &revoked
	}
	if !expired.start.IsZero() || !expired.end.IsZero() {
		f.ExpiredOnly = true
	}
	for _, p := range []struct {
		name string
		set  func(bool)
	}{
		{"notrevoked", func(b bool) {
			if b {
				good := false
				f.Revoked = &good
			}
		}},
		{"notexpired", func(b bool) { f.NotExpired = b }},
	} {
		switch v := q.Get(p.name); v {
		case "":
		case "true", "1":
			p.set(true)
		case "false", "0":
			p.set(false)
		default:
			return f, expired, fmt.Errorf("%s: %q is not a boolean", p.name, v)
		}
	}
	if f.Revoked != nil && !*f.Revoked && (!f.RevokedAfter.IsZero() || !f.RevokedBefore.IsZero()) {
		return f, expired, fmt.Errorf("notrevoked contradicts revoked_start/revoked_end")
	}
	return f, expired, nil
}

// parseQueryTime accepts RFC 3339, a date, or a duration relative to now
// ("-30d", "+2h"), the forms fabric-ca-client documents.
func parseQueryTime(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	s := v
	if n := len(s); n > 1 && s[n-1] == 'd' {
		var days int
		if _, err := fmt.Sscanf(s[:n-1], "%d", &days); err == nil {
			return now.Add(time.Duration(days) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date or a duration", v)
}
