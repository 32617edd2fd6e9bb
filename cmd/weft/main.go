// Command weft is the single binary of the weft platform: nodes, tools,
// the local runner and the operator are all sub-commands.
package main

import (
	"os"

	"weft/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
