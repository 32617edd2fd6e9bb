// Command app is a small application built on weft's Go client: it
// connects to a peer's Gateway as a user of an org, creates an asset with
// the basic chaincode and reads it back. Run it against `weft up`:
//
//	go run ./examples/app --data weft-data --id asset42
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"weft/client"
	"weft/comm"
	"weft/msp"
)

func main() {
	data := flag.String("data", "weft-data", "data directory written by weft up")
	peer := flag.String("peer", "localhost:7051", "peer Gateway endpoint")
	id := flag.String("id", fmt.Sprintf("asset-%d", time.Now().Unix()), "asset id to create")
	flag.Parse()
	if err := run(*data, *peer, *id); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

func run(data, peer, id string) error {
	org := filepath.Join(data, "organizations", "peerOrganizations", "org1.example.com")
	user, err := msp.LoadSigningIdentity(filepath.Join(org, "users", "User1@org1.example.com", "msp"), "Org1MSP")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(filepath.Join(org, "tlsca", "tlsca.org1.example.com-cert.pem"))
	if err != nil {
		return err
	}
	tlsConf, err := comm.ClientTLSConfig(nil, nil, [][]byte{ca}, "localhost")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := comm.Dial(ctx, peer, tlsConf)
	if err != nil {
		return err
	}
	defer conn.Close()
	gw := &client.Gateway{Conn: conn, Signer: user}

	txID, _, err := gw.Submit(ctx, "mychannel", "basic", nil,
		[]byte("CreateAsset"), []byte(id), []byte("purple"), []byte("7"), []byte("Ann"), []byte("700"))
	if err != nil {
		return err
	}
	fmt.Printf("created %s in transaction %s\n", id, txID)
	asset, err := gw.Evaluate(ctx, "mychannel", "basic", []byte("ReadAsset"), []byte(id))
	if err != nil {
		return err
	}
	fmt.Printf("read back: %s\n", asset)
	return nil
}
