package lifecycle

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	lb "weft/wire/peer/lifecycle"
)

func (c *call) installChaincode(in *lb.InstallChaincodeArgs) (proto.Message, error) {
	if len(in.ChaincodeInstallPackage) == 0 {
		return nil, errors.New("chaincode_install_package: empty")
	}
	id, label, err := c.scc.opts.Store.Install(in.ChaincodeInstallPackage)
	if err != nil {
		return nil, err
	}
	return &lb.InstallChaincodeResult{PackageId: id, Label: label}, nil
}

func (c *call) getInstalledChaincodePackage(in *lb.GetInstalledChaincodePackageArgs) (proto.Message, error) {
	if in.PackageId == "" {
		return nil, errors.New("package_id: empty")
	}
	b, err := c.scc.opts.Store.Get(in.PackageId)
	if errors.Is(err, ErrPackageNotFound) {
		return nil, notFound("chaincode install package '%s' not found", in.PackageId)
	}
	if err != nil {
		return nil, fmt.Errorf("could not load cc install package: %w", err)
	}
	return &lb.GetInstalledChaincodePackageResult{ChaincodeInstallPackage: b}, nil
}

func (c *call) queryInstalledChaincode(in *lb.QueryInstalledChaincodeArgs) (proto.Message, error) {
	if in.PackageId == "" {
		return nil, errors.New("package_id: empty")
	}
	list, err := c.scc.opts.Store.List()
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.ID != in.PackageId {
			continue
		}
		refs, err := c.scc.references(c.msp)
		if err != nil {
			return nil, err
		}
		out := &lb.QueryInstalledChaincodeResult{PackageId: p.ID, Label: p.Label, References: map[string]*lb.QueryInstalledChaincodeResult_References{}}
		for ch, ccs := range refs[p.ID] {
			r := &lb.QueryInstalledChaincodeResult_References{}
			for _, cc := range ccs {
				r.Chaincodes = append(r.Chaincodes, &lb.QueryInstalledChaincodeResult_Chaincode{Name: cc.name, Version: cc.version})
			}
			out.References[ch] = r
		}
		return out, nil
	}
	return nil, fmt.Errorf("could not find chaincode with package id '%s'", in.PackageId)
}

func (c *call) queryInstalledChaincodes(*lb.QueryInstalledChaincodesArgs) (proto.Message, error) {
	list, err := c.scc.opts.Store.List()
	if err != nil {
		return nil, err
	}
	refs, err := c.scc.references(c.msp)
	if err != nil {
		return nil, err
	}
	out := &lb.QueryInstalledChaincodesResult{}
	for _, p := range list {
		ic := &lb.QueryInstalledChaincodesResult_InstalledChaincode{PackageId: p.ID, Label: p.Label, References: map[string]*lb.QueryInstalledChaincodesResult_References{}}
		for ch, ccs := range refs[p.ID] {
			r := &lb.QueryInstalledChaincodesResult_References{}
			for _, cc := range ccs {
				r.Chaincodes = append(r.Chaincodes, &lb.QueryInstalledChaincodesResult_Chaincode{Name: cc.name, Version: cc.version})
			}
			ic.References[ch] = r
		}
		out.InstalledChaincodes = append(out.InstalledChaincodes, ic)
	}
	return out, nil
}

type ccRef struct{ name, version string }

// references maps package ID → channel → chaincodes whose newest approval by
// this peer's org names that package.
func (s *SCC) references(localMSP string) (map[string]map[string][]ccRef, error) {
	out := map[string]map[string][]ccRef{}
	if s.opts.ChannelStates == nil {
		return out, nil
	}
	for ch, st := range s.opts.ChannelStates() {
		kvs, err := scan(st.GetRange, approvalsPrefix)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", ch, err)
		}
		type newest struct {
			seq int64
			a   *lb.ApproveChaincodeDefinitionForMyOrgArgs
		}
		latest := map[string]newest{}
		for _, kv := range kvs {
			name, seq, mspID, ok := parseApprovalKey(kv.Key)
			if !ok || mspID != localMSP {
				continue
			}
			a := &lb.ApproveChaincodeDefinitionForMyOrgArgs{}
			if err := proto.Unmarshal(kv.Value, a); err != nil {
				return nil, fmt.Errorf("channel %s: approval %q: %w", ch, kv.Key, err)
			}
			if n, seen := latest[name]; !seen || seq > n.seq {
				latest[name] = newest{seq, a}
			}
		}
		names := make([]string, 0, len(latest))
		for n := range latest {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := latest[n].a
			id := approvedPackage(a)
			if id == "" {
				continue
			}
			if out[id] == nil {
				out[id] = map[string][]ccRef{}
			}
			out[id][ch] = append(out[id][ch], ccRef{n, a.Version})
		}
	}
	return out, nil
}
