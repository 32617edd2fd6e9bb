package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
	"weft/wire/orderer"
	"weft/wire/orderer/etcdraft"
)

// LatestConfig fetches the newest config block from orderer i.
func (o *Orderers) LatestConfig(t testing.TB, i int) (*common.Block, *common.Config) {
	t.Helper()
	id := o.OrdererAdmin(t)
	h := uint64(o.Metric(i, "ledger_blockchain_height"))
	if h == 0 {
		t.Fatalf("%s: no height", o.Procs[i].Name)
	}
	blocks := o.Blocks(t, i, id, h)
	idx, err := channelconfig.LastConfigIndex(blocks[len(blocks)-1])
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := channelconfig.ConfigFromBlock(blocks[idx])
	if err != nil {
		t.Fatal(err)
	}
	return blocks[idx], env.GetConfig()
}

// ChangeConsenters submits a config update (signed by the orderer admin)
// through orderer via that adds orderer add (if >= 0) to the consenters
// and endpoints and removes orderer remove (if >= 0).
func (o *Orderers) ChangeConsenters(t testing.TB, via, add, remove int) {
	t.Helper()
	_, current := o.LatestConfig(t, via)
	updated := proto.Clone(current).(*common.Config)
	ordGroup := updated.GetChannelGroup().GetGroups()["Orderer"]
	ctVal := ordGroup.GetValues()["ConsensusType"]
	var ct orderer.ConsensusType
	if err := proto.Unmarshal(ctVal.GetValue(), &ct); err != nil {
		t.Fatal(err)
	}
	var meta etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.GetMetadata(), &meta); err != nil {
		t.Fatal(err)
	}
	orgGroup := ordGroup.GetGroups()["OrdererOrg"]
	var eps common.OrdererAddresses
	if err := proto.Unmarshal(orgGroup.GetValues()["Endpoints"].GetValue(), &eps); err != nil {
		t.Fatal(err)
	}
	if add >= 0 {
		cert := o.serverCert(t, add)
		meta.Consenters = append(meta.Consenters, &etcdraft.Consenter{
			Host: "127.0.0.1", Port: uint32(o.Ep.Orderer(add)), ClientTlsCert: cert, ServerTlsCert: cert,
		})
		eps.Addresses = append(eps.Addresses, o.Address(add))
	}
	if remove >= 0 {
		cert := o.serverCert(t, remove)
		var keep []*etcdraft.Consenter
		for _, c := range meta.Consenters {
			if !bytes.Equal(c.GetClientTlsCert(), cert) {
				keep = append(keep, c)
			}
		}
		meta.Consenters = keep
		var keepEps []string
		for _, a := range eps.Addresses {
			if a != o.Address(remove) && a != fmt.Sprintf("%s:%d", o.Ep.Host, o.Ep.Orderer(remove)) {
				keepEps = append(keepEps, a)
			}
		}
		eps.Addresses = keepEps
	}
	mustSet := func(v *common.ConfigValue, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		v.Value = b
	}
	metaBytes, err := proto.Marshal(&meta)
	if err != nil {
		t.Fatal(err)
	}
	ct.Metadata = metaBytes
	mustSet(ctVal, &ct)
	mustSet(orgGroup.GetValues()["Endpoints"], &eps)

	update, err := channelconfig.ComputeUpdate(o.Channel, current, updated)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(update)
	if err != nil {
		t.Fatal(err)
	}
	admin := o.OrdererAdmin(t)
	sig, err := channelconfig.SignConfigUpdate(raw, admin.Signer)
	if err != nil {
		t.Fatal(err)
	}
	cue, err := channelconfig.NewConfigUpdateEnvelope(raw, sig)
	if err != nil {
		t.Fatal(err)
	}
	env, err := channelconfig.ConfigUpdateTx(o.Channel, cue, admin.Signer)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := o.DialContext(ctx, via, admin)
		var st []common.Status
		var info []string
		if err == nil {
			st, info, err = Broadcast(ctx, conn, []*common.Envelope{env}, 1)
			conn.Close()
		}
		cancel()
		if err == nil && len(st) == 1 && st[0] == common.Status_SUCCESS {
			return
		}
		if attempt == 5 {
			t.Fatalf("config update (add %d, remove %d) via %s: %v %v %v", add, remove, o.Procs[via].Name, st, info, err)
		}
		time.Sleep(time.Second)
	}
}

func (o *Orderers) serverCert(t testing.TB, i int) []byte {
	b, err := os.ReadFile(filepath.Join(o.Layout.OrdererDir(o.Spec, o.Spec.OrdererHosts()[i]), "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
