package peer

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill a node if the benchmark
// process dies first, so an interrupted run leaves no orphans.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
