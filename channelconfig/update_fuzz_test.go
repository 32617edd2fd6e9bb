package channelconfig

import (
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"weft/wire/common"
)

var (
	fuzzOnce     sync.Once
	fuzzScenario *scenario
)

// FuzzProposeConfigUpdate feeds arbitrary bytes to the update path in three
// shapes: as the whole envelope, as the ConfigUpdate inside a well-formed and
// properly signed envelope (to reach authorisation), and as a ConfigEnvelope
// for ValidateConfigEnvelope. Nothing may panic.
func FuzzProposeConfigUpdate(f *testing.F) {
	fuzzOnce.Do(func() { fuzzScenario = newScenario(f) })
	s := fuzzScenario
	n := s.n
	for _, upd := range []*common.Config{s.addOrg3, s.newAnchor, s.newBatch} {
		cu, err := ComputeUpdate(testChannel, n.cfg, upd)
		if err != nil {
			f.Fatal(err)
		}
		env := updateTx(f, testChannel, cu, n.org1.client, n.org1.admin, n.org2.admin, n.ord.admin)
		f.Add(byte(0), mustMarshal(f, env))
		f.Add(byte(1), mustMarshal(f, cu))
		if out, err := s.b.ProposeConfigUpdate(env); err == nil {
			f.Add(byte(2), mustMarshal(f, out))
		}
	}
	signers := []Signer{n.org1.admin, n.org2.admin, n.ord.admin}
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		switch mode % 3 {
		case 0:
			env := &common.Envelope{}
			if proto.Unmarshal(data, env) == nil {
				_, _ = s.b.ProposeConfigUpdate(env)
			}
			_, _ = s.b.ProposeConfigUpdate(&common.Envelope{Payload: data})
		case 1:
			var sigs []*common.ConfigSignature
			for _, sg := range signers {
				if sig, err := SignConfigUpdate(data, sg); err == nil {
					sigs = append(sigs, sig)
				}
			}
			if len(data) == 0 {
				return
			}
			cue := &common.ConfigUpdateEnvelope{ConfigUpdate: data, Signatures: sigs}
			env, err := ConfigUpdateTx(testChannel, cue, n.org1.client)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := s.b.ProposeConfigUpdate(env); err == nil {
				if err := s.b.ValidateConfigEnvelope(out); err != nil {
					t.Fatalf("accepted update does not validate: %v", err)
				}
			}
		case 2:
			ce := &common.ConfigEnvelope{}
			if proto.Unmarshal(data, ce) == nil {
				_ = s.b.ValidateConfigEnvelope(ce)
			}
		}
	})
}
