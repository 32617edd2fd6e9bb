package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Certificate status values.
const (
	StatusGood    = "good"
	StatusRevoked = "revoked"
)

// normHex lower-cases a hex string and, for serials, drops leading zeros
// so "00AB" and "ab" name the same certificate.
func normHex(field, v string, trimZeros bool) (string, error) {
	v = strings.ToLower(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%s %q: not hex (byte %d)", field, v, i)
		}
	}
	if trimZeros && v != "" {
		v = strings.TrimLeft(v, "0")
		if v == "" {
			v = "0"
		}
	}
	return v, nil
}

// micros stores a time; times are returned in UTC.
func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func (s *sqlStore) PutCertificate(ctx context.Context, c *Certificate) error {
	if c == nil {
		return errors.New("certificate: nil")
	}
	serial, err := normHex("certificate serial", c.Serial, true)
	if err != nil {
		return err
	}
	if serial == "" {
		return errors.New("certificate serial: empty")
	}
	aki, err := normHex("certificate aki", c.AKI, false)
	if err != nil {
		return err
	}
	status := c.Status
	if status == "" {
		status = StatusGood
	}
	if status != StatusGood && status != StatusRevoked {
		return fmt.Errorf("certificate %s status %q: want %q or %q", serial, status, StatusGood, StatusRevoked)
	}
	pem := c.PEM
	if pem == nil {
		pem = []byte{}
	}
	// Re-putting a certificate (same serial and AKI) replaces it, so a
	// retried issuance is harmless.
	_, err = s.db.ExecContext(ctx, `INSERT INTO certificates
		(ca_name, serial, aki, id, status, reason, not_before, expiry, revoked_at, pem)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (ca_name, serial, aki) DO UPDATE SET
			id = excluded.id, status = excluded.status, reason = excluded.reason,
			not_before = excluded.not_before, expiry = excluded.expiry,
			revoked_at = excluded.revoked_at, pem = excluded.pem`,
		c.CAName, serial, aki, c.ID, status, c.Reason,
		micros(c.NotBefore), micros(c.Expiry), micros(c.RevokedAt), pem)
	if err != nil {
		return fmt.Errorf("put certificate %s: %w", serial, err)
	}
	c.Serial, c.AKI, c.Status = serial, aki, status
	return nil
}

// certWhere turns f into a WHERE clause (after ca_name = $1) and its args.
// RevokedAfter/RevokedBefore are inclusive bounds and select only revoked
// certificates.
func certWhere(caName string, f CertFilter) (string, []any, error) {
	var sb strings.Builder
	args := []any{caName}
	sb.WriteString(`ca_name = $1`)
	add := func(cond string, v any) {
		args = append(args, v)
		fmt.Fprintf(&sb, " AND "+cond, len(args))
	}
	if f.ID != "" {
		add(`id = $%d`, f.ID)
	}
	if f.Serial != "" {
		v, err := normHex("filter serial", f.Serial, true)
		if err != nil {
			return "", nil, err
		}
		add(`serial = $%d`, v)
	}
	if f.AKI != "" {
		v, err := normHex("filter aki", f.AKI, false)
		if err != nil {
			return "", nil, err
		}
		add(`aki = $%d`, v)
	}
	if f.Revoked != nil {
		st := StatusGood
		if *f.Revoked {
			st = StatusRevoked
		}
		add(`status = $%d`, st)
	}
	if f.ExpiredOnly && f.NotExpired {
		return "", nil, errors.New("filter: ExpiredOnly and NotExpired are both set; nothing can match")
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	if f.ExpiredOnly {
		add(`expiry < $%d`, micros(now))
	}
	if f.NotExpired {
		add(`expiry >= $%d`, micros(now))
	}
	if !f.RevokedAfter.IsZero() || !f.RevokedBefore.IsZero() {
		if !f.RevokedAfter.IsZero() && !f.RevokedBefore.IsZero() && f.RevokedBefore.Before(f.RevokedAfter) {
			return "", nil, fmt.Errorf("filter: RevokedBefore %s is before RevokedAfter %s",
				f.RevokedBefore.Format(time.RFC3339), f.RevokedAfter.Format(time.RFC3339))
		}
		add(`status = $%d`, StatusRevoked)
		if !f.RevokedAfter.IsZero() {
			add(`revoked_at >= $%d`, micros(f.RevokedAfter))
		}
		if !f.RevokedBefore.IsZero() {
			add(`revoked_at <= $%d`, micros(f.RevokedBefore))
		}
	}
	return sb.String(), args, nil
}

const certColumns = `ca_name, serial, aki, id, status, reason, not_before, expiry, revoked_at, pem`

func scanCerts(rows *sql.Rows) ([]Certificate, error) {
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var nb, exp, rev int64
		if err := rows.Scan(&c.CAName, &c.Serial, &c.AKI, &c.ID, &c.Status, &c.Reason, &nb, &exp, &rev, &c.PEM); err != nil {
			return nil, err
		}
		c.NotBefore, c.Expiry, c.RevokedAt = fromMicros(nb), fromMicros(exp), fromMicros(rev)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Serial != out[j].Serial {
			return out[i].Serial < out[j].Serial
		}
		return out[i].AKI < out[j].AKI
	})
	return out, nil
}

func (s *sqlStore) ListCertificates(ctx context.Context, caName string, f CertFilter) ([]Certificate, error) {
	where, args, err := certWhere(caName, f)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	out, err := scanCerts(rows)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return out, nil
}

func (s *sqlStore) RevokeCertificates(ctx context.Context, caName string, f CertFilter, reason int, at time.Time) ([]Certificate, error) {
	if reason < 0 || reason > 10 || reason == 7 {
		return nil, fmt.Errorf("revocation reason %d: want an RFC 5280 reason code (0-10, not 7)", reason)
	}
	if at.IsZero() {
		return nil, errors.New("revocation time: zero")
	}
	where, args, err := certWhere(caName, f)
	if err != nil {
		return nil, err
	}
	var changed []Certificate
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE `+where+
			fmt.Sprintf(` AND status = $%d`, len(args)+1), append(args, StatusGood)...)
		if err != nil {
			return fmt.Errorf("revoke: select: %w", err)
		}
		cands, err := scanCerts(rows)
		if err != nil {
			return fmt.Errorf("revoke: select: %w", err)
		}
		for _, c := range cands {
			// status = good in the WHERE makes a concurrent revoker's row
			// count zero here, so each certificate is reported changed by
			// exactly one caller.
			res, err := tx.ExecContext(ctx, `UPDATE certificates SET status = $1, reason = $2, revoked_at = $3
				WHERE ca_name = $4 AND serial = $5 AND aki = $6 AND status = $7`,
				StatusRevoked, reason, micros(at), caName, c.Serial, c.AKI, StatusGood)
			if err != nil {
				return fmt.Errorf("revoke certificate %s: %w", c.Serial, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("revoke certificate %s: %w", c.Serial, err)
			}
			if n == 1 {
				c.Status, c.Reason, c.RevokedAt = StatusRevoked, reason, fromMicros(micros(at))
				changed = append(changed, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}
