package main

import (
	"encoding/json"
	"fmt"

	"weft/chaincode/contract"
)

// SmartContract manages assets keyed by their ID.
type SmartContract struct{}

// Asset is stored as JSON. The fields are declared in alphabetical order
// because encoding/json keeps declaration order and the sample's
// implementations in other languages write keys sorted: every endorser must
// produce identical bytes.
type Asset struct {
	AppraisedValue int    `json:"AppraisedValue"`
	Color          string `json:"Color"`
	ID             string `json:"ID"`
	Owner          string `json:"Owner"`
	Size           int    `json:"Size"`
}

// Event names, as in the fabric-samples asset-transfer-events chaincode.
const (
	EventCreate   = "CreateAsset"
	EventTransfer = "TransferAsset"
)

// InitLedger writes the sample's six starting assets.
func (s *SmartContract) InitLedger(ctx contract.Context) error {
	assets := []Asset{
		{ID: "asset1", Color: "blue", Size: 5, Owner: "Tomoko", AppraisedValue: 300},
		{ID: "asset2", Color: "red", Size: 5, Owner: "Brad", AppraisedValue: 400},
		{ID: "asset3", Color: "green", Size: 10, Owner: "Jin Soo", AppraisedValue: 500},
		{ID: "asset4", Color: "yellow", Size: 10, Owner: "Max", AppraisedValue: 600},
		{ID: "asset5", Color: "black", Size: 15, Owner: "Adriana", AppraisedValue: 700},
		{ID: "asset6", Color: "white", Size: 15, Owner: "Michel", AppraisedValue: 800},
	}
	for _, a := range assets {
		if _, err := put(ctx, a); err != nil {
			return fmt.Errorf("failed to put to world state. %v", err)
		}
	}
	return nil
}

// CreateAsset adds a new asset; its ID must be unused.
func (s *SmartContract) CreateAsset(ctx contract.Context, id, color string, size int, owner string, appraisedValue int) error {
	exists, err := s.AssetExists(ctx, id)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("the asset %s already exists", id)
	}
	a := Asset{ID: id, Color: color, Size: size, Owner: owner, AppraisedValue: appraisedValue}
	b, err := put(ctx, a)
	if err != nil {
		return err
	}
	return ctx.SetEvent(EventCreate, b)
}

// ReadAsset returns the asset with the given ID.
func (s *SmartContract) ReadAsset(ctx contract.Context, id string) (*Asset, error) {
	b, err := ctx.Stub().GetState(id)
	if err != nil {
		return nil, fmt.Errorf("failed to read from world state: %v", err)
	}
	if b == nil {
		return nil, fmt.Errorf("the asset %s does not exist", id)
	}
	var a Asset
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("asset %s: stored value is not an asset: %v", id, err)
	}
	return &a, nil
}

// UpdateAsset replaces every field of an existing asset.
func (s *SmartContract) UpdateAsset(ctx contract.Context, id, color string, size int, owner string, appraisedValue int) error {
	exists, err := s.AssetExists(ctx, id)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("the asset %s does not exist", id)
	}
	_, err = put(ctx, Asset{ID: id, Color: color, Size: size, Owner: owner, AppraisedValue: appraisedValue})
	return err
}

// DeleteAsset removes an existing asset.
func (s *SmartContract) DeleteAsset(ctx contract.Context, id string) error {
	exists, err := s.AssetExists(ctx, id)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("the asset %s does not exist", id)
	}
	return ctx.Stub().DelState(id)
}

// AssetExists tells whether an asset with the given ID exists.
func (s *SmartContract) AssetExists(ctx contract.Context, id string) (bool, error) {
	b, err := ctx.Stub().GetState(id)
	if err != nil {
		return false, fmt.Errorf("failed to read from world state: %v", err)
	}
	return b != nil, nil
}

// TransferAsset sets a new owner and returns the previous one.
func (s *SmartContract) TransferAsset(ctx contract.Context, id, newOwner string) (string, error) {
	a, err := s.ReadAsset(ctx, id)
	if err != nil {
		return "", err
	}
	oldOwner := a.Owner
	a.Owner = newOwner
	b, err := put(ctx, *a)
	if err != nil {
		return "", err
	}
	if err := ctx.SetEvent(EventTransfer, b); err != nil {
		return "", err
	}
	return oldOwner, nil
}

// GetAllAssets returns every asset, in key order.
func (s *SmartContract) GetAllAssets(ctx contract.Context) ([]*Asset, error) {
	// An open range covers the whole namespace except composite keys.
	it, err := ctx.Stub().GetStateByRange("", "")
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var assets []*Asset
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		var a Asset
		if err := json.Unmarshal(kv.GetValue(), &a); err != nil {
			return nil, fmt.Errorf("key %s: stored value is not an asset: %v", kv.GetKey(), err)
		}
		assets = append(assets, &a)
	}
	return assets, nil
}

// put stores a and returns the bytes written.
func put(ctx contract.Context, a Asset) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := ctx.Stub().PutState(a.ID, b); err != nil {
		return nil, err
	}
	return b, nil
}
