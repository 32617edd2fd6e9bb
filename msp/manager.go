package msp

import (
	"errors"
	"fmt"
	"sort"

	common "weft/wire/common"
	mspproto "weft/wire/msp"

	"google.golang.org/protobuf/proto"
)

// Manager holds the MSPs of a channel, keyed by MSP ID.
type Manager struct {
	byID map[string]*MSP
}

// NewManager indexes msps; nil entries and duplicate IDs are rejected.
func NewManager(msps ...*MSP) (*Manager, error) {
	mg := &Manager{byID: make(map[string]*MSP, len(msps))}
	for i, m := range msps {
		if m == nil {
			return nil, fmt.Errorf("msp manager: msps[%d] is nil", i)
		}
		if _, dup := mg.byID[m.ID()]; dup {
			return nil, fmt.Errorf("msp manager: duplicate MSP ID %q", m.ID())
		}
		mg.byID[m.ID()] = m
	}
	return mg, nil
}

// MSP returns the MSP with the given ID.
func (mg *Manager) MSP(id string) (*MSP, bool) {
	if mg == nil {
		return nil, false
	}
	m, ok := mg.byID[id]
	return m, ok
}

// IDs lists the MSP IDs in sorted order.
func (mg *Manager) IDs() []string {
	if mg == nil {
		return nil
	}
	ids := make([]string, 0, len(mg.byID))
	for id := range mg.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// DeserializeIdentity routes serialized to the MSP named by its mspid and
// returns the identity only if it is currently valid. Only the mspid is
// decoded here: the MSP caches the rest by the serialized bytes, and the
// certificate is parsed only when the MSP has not seen them yet.
func (mg *Manager) DeserializeIdentity(serialized []byte) (*Identity, error) {
	if mg == nil {
		return nil, errors.New("msp manager is nil")
	}
	var sid mspproto.SerializedIdentity
	if err := proto.Unmarshal(serialized, &sid); err != nil {
		return nil, fmt.Errorf("serialized identity: %w", err)
	}
	m, ok := mg.byID[sid.GetMspid()]
	if !ok {
		// A malformed certificate is reported before an unknown MSP.
		if _, _, err := ParseSerialized(serialized); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("serialized identity: MSP %q is not known to this channel", sid.GetMspid())
	}
	id, err := m.DeserializeIdentity(serialized)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(id); err != nil {
		return nil, err
	}
	return id, nil
}

// SatisfiesPrincipal asks the identity's own MSP whether id satisfies p.
func (mg *Manager) SatisfiesPrincipal(id *Identity, p *common.MSPPrincipal) error {
	if id == nil {
		return errors.New("satisfies principal: identity is nil")
	}
	m, ok := mg.MSP(id.MSPID)
	if !ok {
		return fmt.Errorf("satisfies principal: MSP %q is not known to this channel", id.MSPID)
	}
	return m.SatisfiesPrincipal(id, p)
}
