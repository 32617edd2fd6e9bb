package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"weft/channelconfig"
	"weft/comm"
	"weft/deliver"
	"weft/runner/population"
	"weft/wire/common"
	ordererpb "weft/wire/orderer"
)

// tlsUser is an identity that talks to orderers (see population.TLSUser).
type tlsUser = population.TLSUser

func loadTLSUser(userDir, mspID string) (*tlsUser, error) {
	return population.LoadTLSUser(userDir, mspID)
}

// ordererAdmin is the orderer org's admin, a reader of every channel.
func (u *up) ordererAdmin() (*tlsUser, error) {
	id, _ := u.n.MSPID(u.n.Orderer.Org)
	return loadTLSUser(filepath.Dir(u.l.OrdererAdminMSP(u.n)), id)
}

// orgAdmin is the admin of the k-th peer org of the spec.
func (u *up) orgAdmin(k int) (*tlsUser, error) {
	o := &u.n.Orgs[k]
	id, _ := u.n.MSPID(o.Name)
	return loadTLSUser(filepath.Dir(u.l.UserMSP(o, "Admin")), id)
}

// dialOrderer connects user to orderer i over mutual TLS, trusting the
// orderer org's TLS CA.
func (u *up) dialOrderer(ctx context.Context, i int, user *tlsUser) (*grpc.ClientConn, error) {
	ca, err := os.ReadFile(filepath.Join(u.l.OrdererOrgDir(u.n), "tlsca", "tlsca."+u.n.Orderer.Domain+"-cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("orderer TLS CA: %w", err)
	}
	conf, err := comm.ClientTLSConfig(user.TLSCert, user.TLSKey, [][]byte{ca}, "localhost")
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return comm.Dial(dctx, fmt.Sprintf("127.0.0.1:%d", u.ep.Orderer(i)), conf)
}

// latestConfig fetches the newest config of channel from orderer i, whose
// ledger holds height blocks, and returns it with its block number.
func (u *up) latestConfig(ctx context.Context, i int, user *tlsUser, channel string, height uint64) (*common.Config, uint64, error) {
	if height == 0 {
		return nil, 0, fmt.Errorf("channel %q: orderer ledger is empty", channel)
	}
	conn, err := u.dialOrderer(ctx, i, user)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	pull := func(n uint64) (*common.Block, error) {
		var got *common.Block
		err := deliver.Pull(ctx, conn, channel, user.Signer, n, n, user.CertHash(), func(b *common.Block) error {
			got = b
			return nil
		})
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

// awaitConfigBlock reads channel from block start on orderer i until a
// config block with a sequence above seq arrives, and returns its number.
func (u *up) awaitConfigBlock(ctx context.Context, i int, user *tlsUser, channel string, start, seq uint64) (uint64, error) {
	conn, err := u.dialOrderer(ctx, i, user)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var num uint64
	err = deliver.Pull(ctx, conn, channel, user.Signer, start, math.MaxUint64, user.CertHash(), func(b *common.Block) error {
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

// broadcastOne sends env to orderer i and returns the orderer's answer.
func (u *up) broadcastOne(ctx context.Context, i int, user *tlsUser, env *common.Envelope) (common.Status, string, error) {
	conn, err := u.dialOrderer(ctx, i, user)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
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
