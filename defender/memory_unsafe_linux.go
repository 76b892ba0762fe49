//go:build linux

package defender

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// processVMRead is process_vm_readv(2) into one local buffer from the remote iovecs,
// called directly so that the caller's arrays stay on its stack.
func processVMRead(tid int, local []byte, remote []unix.RemoteIovec) (int, error) {
	if len(local) == 0 || len(remote) == 0 {
		return 0, nil
	}
	liov := unix.Iovec{Base: &local[0]}
	liov.SetLen(len(local))
	n, _, errno := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(tid), uintptr(unsafe.Pointer(&liov)), 1,
		uintptr(unsafe.Pointer(&remote[0])), uintptr(len(remote)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
