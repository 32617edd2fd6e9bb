package deliver

import (
	"context"
	"testing"
	"time"

	"weft/wire/common"
)

// FuzzSeekRequest feeds arbitrary envelopes to the handler: it must never
// panic and must answer every request with exactly one status.
func FuzzSeekRequest(f *testing.F) {
	fx := newFixture(f, 2)
	h := fx.handler()
	for _, si := range [][2]any{{0, 1}, {"oldest", "newest"}, {"newest", "newest"}, {3, 2}} {
		env := seekEnv(f, fx.client, seekInfo(si[0], si[1]))
		f.Add(env.Payload, env.Signature)
	}
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, payload, sig []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s := &fakeStream{ctx: ctx, in: []*common.Envelope{{Payload: payload, Signature: sig}}}
		err := h.Serve(s)
		if err != nil {
			if ctx.Err() == nil {
				t.Fatalf("Serve: %v", err)
			}
			return // waited for a block that never came
		}
		if len(s.status) != 1 {
			t.Fatalf("statuses %v", s.status)
		}
		if s.status[0] == common.Status_SUCCESS && len(s.blocks) == 0 {
			t.Fatal("SUCCESS without blocks")
		}
	})
}
