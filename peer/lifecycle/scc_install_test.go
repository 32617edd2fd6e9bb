package lifecycle

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/peer/chaincode"
	lb "weft/wire/peer/lifecycle"
)

func TestInvokeArguments(t *testing.T) {
	w := newWorld(t)
	noV2 := newBundle(t, []string{"V1_4_2"}, w.org1, w.org2)
	tests := []struct {
		name    string
		args    [][]byte
		noChan  bool
		bundle  *channelconfig.Bundle
		wantMsg string
	}{
		{"no args", [][]byte{}, false, nil, "must be invoked with arguments"},
		{"one arg", [][]byte{[]byte("QueryChaincodeDefinitions")}, false, nil, "exactly two arguments but received 1"},
		{"three args", [][]byte{[]byte("QueryChaincodeDefinitions"), nil, nil}, false, nil, "exactly two arguments but received 3"},
		{"unknown function", [][]byte{[]byte("Frobnicate"), nil}, false, nil, "unknown function 'Frobnicate'"},
		{"garbage argument", [][]byte{[]byte("QueryChaincodeDefinition"), {0xff, 0xff, 0xff}}, false, nil, "argument 1: not a marshaled lifecycle.QueryChaincodeDefinitionArgs"},
		{"channel function without channel", [][]byte{[]byte("CommitChaincodeDefinition"), nil}, true, nil, "must be invoked on a channel"},
		{"channel without V2_0", [][]byte{[]byte("QueryChaincodeDefinitions"), nil}, false, noV2, "does not have the required capabilities"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &stub{args: tc.args, local: "Org1MSP", creator: w.identity(t, w.admin1)}
			if !tc.noChan {
				s.channel, s.bundle, s.sim = testChannel, w.bundle, newSim(w)
				if tc.bundle != nil {
					s.bundle = tc.bundle
				}
			}
			resp := w.scc1.Invoke(t.Context(), s)
			if resp.Status != 500 || !strings.Contains(resp.Message, tc.wantMsg) {
				t.Fatalf("got %d %q, want 500 %q", resp.Status, resp.Message, tc.wantMsg)
			}
		})
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

func TestInstallChaincode(t *testing.T) {
	w := newWorld(t)
	pkg := ccaasPackage(t, "basic_1.0", "basic:9999")
	wantID := chaincode.PackageID("basic_1.0", pkg)
	tests := []struct {
		name    string
		creator func() callOpts
		pkg     []byte
		status  int32
		wantMsg string
	}{
		{"admin installs", func() callOpts { return callOpts{creator: w.admin1, noChan: true} }, pkg, 200, ""},
		{"re-install is idempotent", func() callOpts { return callOpts{creator: w.admin1, noChan: true} }, pkg, 200, ""},
		{"install on a channel proposal", func() callOpts { return callOpts{creator: w.admin1} }, pkg, 200, ""},
		{"client is not admin", func() callOpts { return callOpts{creator: w.client1, noChan: true} }, pkg, 500, "not an admin of the local MSP"},
		{"peer is not admin", func() callOpts { return callOpts{creator: w.peer1, noChan: true} }, pkg, 500, "not an admin"},
		{"other org's admin", func() callOpts { return callOpts{creator: w.admin2, noChan: true} }, pkg, 500, "not an admin"},
		{"no creator", func() callOpts { return callOpts{noChan: true} }, pkg, 500, "<none>"},
		{"malformed package", func() callOpts { return callOpts{creator: w.admin1, noChan: true} }, []byte("garbage"), 500, "could not parse as a chaincode install package"},
		{"empty package", func() callOpts { return callOpts{creator: w.admin1, noChan: true} }, nil, 500, "chaincode_install_package: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := w.call(t, tc.creator(), "InstallChaincode", &lb.InstallChaincodeArgs{ChaincodeInstallPackage: tc.pkg})
			if resp.Status != tc.status || !strings.Contains(resp.Message, tc.wantMsg) {
				t.Fatalf("got %d %q, want %d %q", resp.Status, resp.Message, tc.status, tc.wantMsg)
			}
			if tc.status != 200 {
				return
			}
			res := &lb.InstallChaincodeResult{}
			if err := proto.Unmarshal(resp.Payload, res); err != nil {
				t.Fatal(err)
			}
			if res.PackageId != wantID || res.Label != "basic_1.0" {
				t.Fatalf("result %v, want id %s", res, wantID)
			}
		})
	}
	if l := must(w.store1.List())(t); len(l) != 1 {
		t.Fatalf("store holds %v", l)
	}
}

func TestInstalledQueries(t *testing.T) {
	w := newWorld(t)
	pkg := ccaasPackage(t, "basic_1.0", "basic:9999")
	admin := callOpts{creator: w.admin1, noChan: true}
	inst := &lb.InstallChaincodeResult{}
	w.ok(t, admin, "InstallChaincode", &lb.InstallChaincodeArgs{ChaincodeInstallPackage: pkg}, inst)
	other := &lb.InstallChaincodeResult{}
	w.ok(t, admin, "InstallChaincode", &lb.InstallChaincodeArgs{ChaincodeInstallPackage: ccaasPackage(t, "zzz", "z:1")}, other)

	// Approving references the package on the channel.
	w.ok(t, callOpts{creator: w.admin1}, "ApproveChaincodeDefinitionForMyOrg", approveArgs("basic", 1, "1.0", inst.PackageId), nil)
	// Org2's approval naming the same package is not this peer's reference.
	w.ok(t, callOpts{org: 2, creator: w.admin2}, "ApproveChaincodeDefinitionForMyOrg", approveArgs("other", 1, "1.0", inst.PackageId), nil)

	t.Run("QueryInstalledChaincode", func(t *testing.T) {
		res := &lb.QueryInstalledChaincodeResult{}
		w.ok(t, admin, "QueryInstalledChaincode", &lb.QueryInstalledChaincodeArgs{PackageId: inst.PackageId}, res)
		refs := res.References[testChannel].GetChaincodes()
		if res.PackageId != inst.PackageId || res.Label != "basic_1.0" || len(refs) != 1 || refs[0].Name != "basic" || refs[0].Version != "1.0" {
			t.Fatalf("result %v", res)
		}
	})
	t.Run("QueryInstalledChaincodes", func(t *testing.T) {
		res := &lb.QueryInstalledChaincodesResult{}
		w.ok(t, admin, "QueryInstalledChaincodes", &lb.QueryInstalledChaincodesArgs{}, res)
		if len(res.InstalledChaincodes) != 2 {
			t.Fatalf("result %v", res)
		}
		for _, ic := range res.InstalledChaincodes {
			n := len(ic.References[testChannel].GetChaincodes())
			if (ic.PackageId == inst.PackageId) != (n == 1) {
				t.Errorf("%s: %d references", ic.PackageId, n)
			}
		}
	})
	t.Run("GetInstalledChaincodePackage", func(t *testing.T) {
		res := &lb.GetInstalledChaincodePackageResult{}
		w.ok(t, admin, "GetInstalledChaincodePackage", &lb.GetInstalledChaincodePackageArgs{PackageId: inst.PackageId}, res)
		if !bytes.Equal(res.ChaincodeInstallPackage, pkg) {
			t.Fatal("package bytes differ")
		}
	})

	unknown := "basic_1.0:" + strings.Repeat("0", 64)
	neg := []struct {
		name    string
		o       callOpts
		fn      string
		in      proto.Message
		status  int32
		wantMsg string
	}{
		{"query unknown id", admin, "QueryInstalledChaincode", &lb.QueryInstalledChaincodeArgs{PackageId: unknown}, 500, "could not find chaincode with package id"},
		{"query empty id", admin, "QueryInstalledChaincode", &lb.QueryInstalledChaincodeArgs{}, 500, "package_id: empty"},
		{"get unknown id", admin, "GetInstalledChaincodePackage", &lb.GetInstalledChaincodePackageArgs{PackageId: unknown}, 404, "not found"},
		{"get malformed id", admin, "GetInstalledChaincodePackage", &lb.GetInstalledChaincodePackageArgs{PackageId: "nocolon"}, 500, "want <label>:<64 hex digits>"},
		{"get empty id", admin, "GetInstalledChaincodePackage", &lb.GetInstalledChaincodePackageArgs{}, 500, "package_id: empty"},
		{"get by non-admin", callOpts{creator: w.client1, noChan: true}, "GetInstalledChaincodePackage", &lb.GetInstalledChaincodePackageArgs{PackageId: inst.PackageId}, 500, "not an admin"},
		{"list by non-admin", callOpts{creator: w.client1, noChan: true}, "QueryInstalledChaincodes", &lb.QueryInstalledChaincodesArgs{}, 500, "not an admin"},
		{"query by non-admin", callOpts{creator: w.peer1, noChan: true}, "QueryInstalledChaincode", &lb.QueryInstalledChaincodeArgs{PackageId: inst.PackageId}, 500, "not an admin"},
	}
	for _, tc := range neg {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := w.call(t, tc.o, tc.fn, tc.in)
			if resp.Status != tc.status || !strings.Contains(resp.Message, tc.wantMsg) {
				t.Fatalf("got %d %q, want %d %q", resp.Status, resp.Message, tc.status, tc.wantMsg)
			}
		})
	}
}
