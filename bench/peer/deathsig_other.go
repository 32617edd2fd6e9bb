//go:build !linux

package peer

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}
