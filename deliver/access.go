package deliver

import (
	"errors"
	"fmt"
	"time"

	"weft/msp"
	"weft/policy"
	"weft/wire/common"
)

// access is the authorisation of one seek request. It is evaluated before the
// first block and re-evaluated before every later one: cheaply against the
// reader's certificate expiry, and against the policy again whenever the
// channel's policy manager changed (a config block was applied).
type access struct {
	ch        Channel
	path      string
	signed    []policy.SignedData
	expiresAt time.Time // zero: unknown, the policy check decides
	now       func() time.Time
	checked   *policy.Manager
}

func (h *Handler) newAccess(ch Channel, env *common.Envelope, creator []byte) *access {
	path := h.Policy
	if path == "" {
		path = DefaultPolicy
	}
	a := &access{
		ch:   ch,
		path: path,
		signed: []policy.SignedData{{
			Data:      env.Payload,
			Identity:  creator,
			Signature: env.Signature,
		}},
		now: h.now,
	}
	if _, cert, err := msp.ParseSerialized(creator); err == nil {
		a.expiresAt = cert.NotAfter
	}
	return a
}

func (a *access) check() error {
	if !a.expiresAt.IsZero() && a.now().After(a.expiresAt) {
		return fmt.Errorf("reader certificate expired at %s", a.expiresAt.UTC().Format(time.RFC3339))
	}
	pm := a.ch.PolicyManager()
	if pm == nil {
		return errors.New("channel has no policy manager")
	}
	if pm == a.checked {
		return nil
	}
	p, ok := pm.Policy(a.path)
	if !ok {
		return fmt.Errorf("policy %q: not defined on the channel", a.path)
	}
	if err := p.EvaluateSignedData(a.signed); err != nil {
		return fmt.Errorf("policy %q: %w", a.path, err)
	}
	a.checked = pm
	return nil
}
