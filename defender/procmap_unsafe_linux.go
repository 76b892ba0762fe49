//go:build linux

package defender

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// procmapQuery is struct procmap_query (include/uapi/linux/fs.h, Linux 6.11): the
// PROCMAP_QUERY ioctl of an open /proc/PID/maps finds the mapping at an address and says
// what file it maps, without formatting every mapping as text.
type procmapQuery struct {
	size, queryFlags, queryAddr   uint64
	vmaStart, vmaEnd, vmaFlags    uint64
	vmaPageSize, vmaOffset, inode uint64
	devMajor, devMinor            uint32
	vmaNameSize, buildIDSize      uint32
	vmaNameAddr, buildIDAddr      uint64
}

// procmapQueryReq is PROCMAP_QUERY: _IOWR('f', 17, struct procmap_query), 104 bytes.
const procmapQueryReq = 0xc0686611

// procmapCoveringOrNext is PROCMAP_QUERY_COVERING_OR_NEXT_VMA, and procmapFileBacked
// PROCMAP_QUERY_FILE_BACKED_VMA: the first file mapping at or after the address.
const (
	procmapCoveringOrNext = 0x10
	procmapFileBacked     = 0x20
)

// procmapNext asks the maps file fd for the first file mapping that covers addr or
// starts after it; ENOENT when there is none.
func procmapNext(fd int, addr uint64) (procmapQuery, error) {
	return procmapQueryOf(fd, addr, procmapCoveringOrNext|procmapFileBacked)
}

// procmapAt asks the maps file fd for the mapping that covers addr. ENOTTY (or EINVAL)
// means the kernel has no PROCMAP_QUERY; ENOENT that nothing is mapped there.
func procmapAt(fd int, addr uint64) (procmapQuery, error) { return procmapQueryOf(fd, addr, 0) }

func procmapQueryOf(fd int, addr, flags uint64) (procmapQuery, error) {
	q := procmapQuery{queryAddr: addr, queryFlags: flags}
	q.size = uint64(unsafe.Sizeof(q))
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), procmapQueryReq, uintptr(unsafe.Pointer(&q))); errno != 0 {
		return q, errno
	}
	return q, nil
}
