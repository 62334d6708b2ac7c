package cluster

import "syscall"

// sysProcAttr makes the kernel kill a child when the process that started it
// dies, so a crashed or interrupted test leaves no services behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
