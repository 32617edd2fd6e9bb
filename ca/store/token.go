package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

func (s *sqlStore) UseToken(ctx context.Context, caName string, hash []byte, seen time.Time) error {
	if len(hash) == 0 {
		return errors.New("token hash: empty")
	}
	// The primary key does the replay check atomically; DO NOTHING turns
	// a duplicate into zero rows on both dialects.
	res, err := s.db.ExecContext(ctx, `INSERT INTO used_tokens (ca_name, hash, seen) VALUES ($1, $2, $3)
		ON CONFLICT (ca_name, hash) DO NOTHING`, caName, hash, micros(seen))
	if err != nil {
		return fmt.Errorf("record token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("record token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("token %x: %w", hash, ErrReplay)
	}
	return nil
}
