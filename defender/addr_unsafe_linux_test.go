//go:build linux

package defender

import "unsafe"

// addrOf is the address of b's first byte, as a system call argument.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }
