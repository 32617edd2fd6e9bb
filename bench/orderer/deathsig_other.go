//go:build !linux

package orderer

import "os/exec"

// setParentDeathSignal has no portable equivalent; Stop is the only cleanup.
func setParentDeathSignal(*exec.Cmd) {}
