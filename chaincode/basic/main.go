// Command basic is the asset-transfer-basic sample chaincode of
// fabric-samples, written against weft's Go chaincode API. It serves the
// same transaction functions with the same arguments, results and error
// messages, so the fabric-samples applications work against it unchanged.
//
// It runs as a chaincode service: set CHAINCODE_SERVER_ADDRESS to the
// host:port the peer dials (connection.json) and CHAINCODE_ID to the
// installed package ID.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"weft/chaincode/contract"
	"weft/chaincode/shim"
)

// contractName is the name clients may prefix to function names
// ("SmartContract:ReadAsset"), as with the fabric-samples Go chaincode.
const contractName = "SmartContract"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	opts, err := shim.ServerOptionsFromEnv()
	if err != nil {
		return err
	}
	cc, err := newChaincode()
	if err != nil {
		return err
	}
	return shim.Serve(ctx, cc, opts)
}

func newChaincode() (*contract.Contract, error) {
	return contract.New(contractName, &SmartContract{})
}
