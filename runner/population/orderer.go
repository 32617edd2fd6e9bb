package population

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc"

	"weft/channelconfig"
	"weft/deliver"
	"weft/wire/common"
	ordererpb "weft/wire/orderer"
)

// LatestConfig fetches the newest config of channel over conn (an
// orderer whose ledger holds height blocks) and returns it with the number
// of the block that carries it.
func LatestConfig(ctx context.Context, conn grpc.ClientConnInterface, user *TLSUser, channel string, height uint64) (*common.Config, uint64, error) {
	if height == 0 {
		return nil, 0, fmt.Errorf("channel %q: orderer ledger is empty", channel)
	}
	pull := func(n uint64) (*common.Block, error) {
		var got *common.Block
		err := deliver.Pull(ctx, conn, channel, user.Signer, n, n, user.CertHash(), func(b *common.Block) error {
			got = b
			return nil
		})
		if err == nil && got == nil {
			err = fmt.Errorf("block %d: not delivered", n)
		}
		return got, err
	}
	last, err := pull(height - 1)
	if err != nil {
		return nil, 0, err
	}
	idx, err := channelconfig.LastConfigIndex(last)
	if err != nil {
		return nil, 0, fmt.Errorf("channel %q: block %d: %w", channel, height-1, err)
	}
	cfgBlock := last
	if idx != last.GetHeader().GetNumber() {
		if cfgBlock, err = pull(idx); err != nil {
			return nil, 0, err
		}
	}
	env, _, err := channelconfig.ConfigFromBlock(cfgBlock)
	if err != nil {
		return nil, 0, fmt.Errorf("channel %q: config block %d: %w", channel, idx, err)
	}
	return env.GetConfig(), idx, nil
}

// errFound ends a deliver stream once the wanted block arrived.
var errFound = errors.New("found")

// AwaitConfigBlock follows channel from block start until a config block
// with a sequence above seq arrives and returns its number.
func AwaitConfigBlock(ctx context.Context, conn grpc.ClientConnInterface, user *TLSUser, channel string, start, seq uint64) (uint64, error) {
	var num uint64
	err := deliver.Pull(ctx, conn, channel, user.Signer, start, math.MaxUint64, user.CertHash(), func(b *common.Block) error {
		env, _, err := channelconfig.ConfigFromBlock(b)
		if err != nil || env.GetConfig().GetSequence() <= seq {
			return nil // a transaction block, or an older config
		}
		num = b.GetHeader().GetNumber()
		return errFound
	})
	if errors.Is(err, errFound) {
		return num, nil
	}
	if err == nil {
		err = errors.New("stream ended")
	}
	return 0, fmt.Errorf("channel %q: waiting for the config block: %w", channel, err)
}

// BroadcastOne sends env over conn and returns the orderer's answer.
func BroadcastOne(ctx context.Context, conn grpc.ClientConnInterface, env *common.Envelope) (common.Status, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := ordererpb.NewAtomicBroadcastClient(conn).Broadcast(ctx)
	if err != nil {
		return 0, "", err
	}
	if err := stream.Send(env); err != nil {
		return 0, "", err
	}
	resp, err := stream.Recv()
	if err != nil {
		return 0, "", err
	}
	stream.CloseSend()
	return resp.GetStatus(), resp.GetInfo(), nil
}

// SubmitUntilAccepted broadcasts env through the orderers dial reaches,
// starting at first and moving on when one is unavailable (no Raft leader
// yet, or down) until ctx ends; a rejection is final.
func SubmitUntilAccepted(ctx context.Context, n, first int, name func(i int) string, dial func(ctx context.Context, i int) (*grpc.ClientConn, error), env *common.Envelope) error {
	if n <= 0 {
		return errors.New("submit: no orderer")
	}
	var last error
	for attempt := 0; ; attempt++ {
		i := (first + attempt) % n
		var st common.Status
		var info string
		conn, err := dial(ctx, i)
		if err == nil {
			st, info, err = BroadcastOne(ctx, conn, env)
			conn.Close()
		}
		switch {
		case err == nil && st == common.Status_SUCCESS:
			return nil
		case err == nil && st != common.Status_SERVICE_UNAVAILABLE:
			return fmt.Errorf("orderer %s rejected the config update: %v: %s", name(i), st, info)
		case err == nil:
			last = fmt.Errorf("orderer %s: %v: %s", name(i), st, info)
		default:
			last = fmt.Errorf("orderer %s: %w", name(i), err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
