package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"weft/comm"
	"weft/runner/population"
	"weft/wire/common"
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
	conn, err := u.dialOrderer(ctx, i, user)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	return population.LatestConfig(ctx, conn, user, channel, height)
}

// awaitConfigBlock reads channel from block start on orderer i until a
// config block with a sequence above seq arrives and returns its number.
func (u *up) awaitConfigBlock(ctx context.Context, i int, user *tlsUser, channel string, start, seq uint64) (uint64, error) {
	conn, err := u.dialOrderer(ctx, i, user)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return population.AwaitConfigBlock(ctx, conn, user, channel, start, seq)
}
