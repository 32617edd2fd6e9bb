package cluster

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"weft/wire/common"
	"weft/wire/orderer"
)

// SubmitError is a submission refused by the remote handler. A Handler may
// return one (possibly wrapped) to choose the status sent back; any other
// error is sent as SERVICE_UNAVAILABLE.
type SubmitError struct {
	Status common.Status
	Info   string
}

func (e *SubmitError) Error() string {
	return fmt.Sprintf("submit refused: %s: %s", e.Status, e.Info)
}

// Submit forwards env to member to of channel and waits for its handler's
// result: nil once the remote reports the envelope committed, a
// *SubmitError when its handler refused it, ErrUnknownChannel or
// ErrNotMember (wrapped) when either side does not know the channel or the
// other node, or a transport error.
func (c *Comm) Submit(ctx context.Context, channel string, to uint64, env *common.Envelope) error {
	if env == nil {
		return errors.New("submit: envelope is nil")
	}
	r, err := c.lookup(channel, to)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	conn, err := r.client(ctx)
	if err != nil {
		return fmt.Errorf("submit: channel %q: %w", channel, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) error {
		r.checkConn(conn, err)
		switch status.Code(err) {
		case codes.NotFound:
			err = fmt.Errorf("%w (%v)", ErrUnknownChannel, status.Convert(err).Message())
		case codes.PermissionDenied:
			err = fmt.Errorf("%w (%v)", ErrNotMember, status.Convert(err).Message())
		}
		return fmt.Errorf("submit: channel %q: node %d: %w", channel, to, err)
	}
	st, err := orderer.NewClusterClient(conn).Step(sctx)
	if err != nil {
		return fail(err)
	}
	err = st.Send(&orderer.StepRequest{Payload: &orderer.StepRequest_SubmitRequest{
		SubmitRequest: &orderer.SubmitRequest{Channel: channel, Payload: env},
	}})
	if err != nil {
		// The stream is gone; Recv reports why.
		_, err = st.Recv()
		return fail(err)
	}
	resp, err := st.Recv()
	if err != nil {
		return fail(err)
	}
	st.CloseSend()
	res := resp.GetSubmitRes()
	if res == nil {
		return fmt.Errorf("submit: channel %q: node %d: response has no submit result", channel, to)
	}
	if res.GetStatus() != common.Status_SUCCESS {
		return fmt.Errorf("submit: channel %q: node %d: %w", channel, to,
			&SubmitError{Status: res.GetStatus(), Info: res.GetInfo()})
	}
	return nil
}
