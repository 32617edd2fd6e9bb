package orderer

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the orderer if the benchmark
// process dies first, so an interrupted run leaves no orphans.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
