package deliver

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"weft/wire/common"
)

// fakeStream feeds envelopes to Serve and records what it sends.
type fakeStream struct {
	ctx     context.Context
	in      []*common.Envelope
	recvErr error // returned once in is drained (io.EOF if nil)
	sendErr error
	blocks  []uint64
	status  []common.Status
}

func (s *fakeStream) Context() context.Context { return s.ctx }
func (s *fakeStream) Recv() (*common.Envelope, error) {
	if len(s.in) == 0 {
		if s.recvErr != nil {
			return nil, s.recvErr
		}
		return nil, io.EOF
	}
	env := s.in[0]
	s.in = s.in[1:]
	return env, nil
}
func (s *fakeStream) SendBlock(b *common.Block) error {
	if s.sendErr != nil {
		return s.sendErr
	}
	s.blocks = append(s.blocks, b.Header.Number)
	return nil
}
func (s *fakeStream) SendStatus(st common.Status) error {
	s.status = append(s.status, st)
	return s.sendErr
}

func TestServeStreamEnds(t *testing.T) {
	f := newFixture(t, 1)
	h := f.handler()
	brokenPipe := errors.New("broken pipe")
	ctxTimeout := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	cases := []struct {
		name       string
		stream     *fakeStream
		wantErr    error // nil: Serve returns nil
		wantStatus []common.Status
	}{
		{"client closes after requests", &fakeStream{ctx: context.Background(),
			in: []*common.Envelope{seekEnv(t, f.client, seekInfo(0, 1)), seekEnv(t, f.client, seekInfo(1, 1))}},
			nil, []common.Status{common.Status_SUCCESS, common.Status_SUCCESS}},
		{"receive fails", &fakeStream{ctx: context.Background(), recvErr: brokenPipe}, brokenPipe, nil},
		{"send fails", &fakeStream{ctx: context.Background(), sendErr: brokenPipe,
			in: []*common.Envelope{seekEnv(t, f.client, seekInfo(0, 1))}}, brokenPipe, nil},
		{"call ends while waiting for a block", &fakeStream{ctx: ctxTimeout(),
			in: []*common.Envelope{seekEnv(t, f.client, seekInfo(0, 5))}}, context.DeadlineExceeded, nil},
		{"error status ends the stream", &fakeStream{ctx: context.Background(),
			in: []*common.Envelope{{}, seekEnv(t, f.client, seekInfo(0, 1))}},
			nil, []common.Status{common.Status_BAD_REQUEST}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := h.Serve(c.stream)
			if (c.wantErr == nil) != (err == nil) || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Fatalf("Serve = %v, want %v", err, c.wantErr)
			}
			if len(c.stream.status) != len(c.wantStatus) {
				t.Fatalf("statuses %v, want %v", c.stream.status, c.wantStatus)
			}
			for i := range c.wantStatus {
				if c.stream.status[i] != c.wantStatus[i] {
					t.Fatalf("statuses %v, want %v", c.stream.status, c.wantStatus)
				}
			}
		})
	}
}

func TestServeWithoutSource(t *testing.T) {
	if err := (&Handler{}).Serve(&fakeStream{ctx: context.Background(), in: []*common.Envelope{{}}}); err == nil {
		t.Fatal("want error for a handler without Source")
	}
}

func TestCustomPolicyAndWindow(t *testing.T) {
	f := newFixture(t, 0)
	cases := []struct {
		name   string
		h      *Handler
		signer Signer
		age    time.Duration
		status common.Status
	}{
		{"admins policy refuses a client", &Handler{Policy: "/Channel/Application/Admins"}, f.client, 0, common.Status_FORBIDDEN},
		{"org admins policy admits an admin", &Handler{Policy: "/Channel/Application/Org1MSP/Admins"}, f.admin, 0, common.Status_SUCCESS},
		{"undefined policy", &Handler{Policy: "/Channel/NoSuch"}, f.client, 0, common.Status_FORBIDDEN},
		{"narrow window", &Handler{TimeWindow: time.Minute}, f.client, 2 * time.Minute, common.Status_BAD_REQUEST},
		{"wide window", &Handler{TimeWindow: time.Hour}, f.client, 30 * time.Minute, common.Status_SUCCESS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.h.Source = testSource{testChannelID: f.ch}
			c.h.Logger = quiet
			env := check(NewSeekEnvelope(testChannelID, c.signer, seekInfo(0, 0), nil, time.Now().Add(-c.age)))(t)
			s := &fakeStream{ctx: context.Background(), in: []*common.Envelope{env}}
			if err := c.h.Serve(s); err != nil {
				t.Fatal(err)
			}
			if len(s.status) != 1 || s.status[0] != c.status {
				t.Fatalf("status %v, want %v", s.status, c.status)
			}
		})
	}
}
